namespace CoFUsfl.Actors;

/// <summary>
/// The layer between sender and mailbox: simulated links (latency, bandwidth, contention) and the fault injector.
/// State is kept per link (sender address, recipient address) and per endpoint; each link has its own random stream
/// seeded from the plan's seed and the two addresses, so the k-th message on a link meets the same fate in every run
/// (and in virtual time the whole run replays exactly).
/// </summary>
internal sealed class LinkLayer
{
    private readonly ActorSystem _system;
    private readonly FaultPlan _plan;
    private readonly NetworkOptions _net;
    private readonly Dictionary<(string, string), PairState> _pairs = [];
    private readonly Dictionary<string, EndpointState> _endpoints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CrashState> _crashStreams = new(StringComparer.Ordinal);
    private readonly ulong _seed;

    public LinkLayer(ActorSystem system, FaultPlan? plan, NetworkOptions? net)
    {
        _system = system;
        _plan = plan ?? new FaultPlan();
        _net = net ?? new NetworkOptions();
        _seed = (ulong)_plan.Seed;
        foreach (var r in _plan.Rules)
        {
            if (r.CorruptBits is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(plan), "corrupt-bits must be 1, 2 or 3 (CRC-32C detects all such errors)");
            foreach (var p in new[] { r.Drop, r.Duplicate, r.Reorder, r.Corrupt })
                if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(plan), $"fault probabilities are in [0, 1], got {p}");
            if (r.ThrottleBytesPerSecond is <= 0) throw new ArgumentOutOfRangeException(nameof(plan), "throttle must be positive bytes/s");
        }
        HasCrashProbabilities = _plan.Crashes.Any(c => c.Probability > 0);
    }

    public bool HasCrashProbabilities { get; }

    private sealed class EndpointState(LinkProfile profile)
    {
        public readonly LinkProfile Profile = profile;
        public long UpFree, DownFree;
    }

    private sealed class PairState
    {
        public required FaultRule? Rule;
        public required int RuleIndex;
        public required int[] Partitions;
        public required EndpointState From, To;
        public required PairLinkRule? PairLink;
        public SeededRandom Random;
        public long LastArrival;
        public long ThrottleFree;
        public long PairLinkFree;
    }

    private sealed class CrashState
    {
        public required CrashRule? Rule;
        public SeededRandom Random;
    }

    /// <summary>What happens to one message.</summary>
    internal struct Plan
    {
        public bool Dropped;
        public long Arrival;
        public bool Duplicate;
        public bool Corrupt;
        public int CorruptBits;
        public ulong CorruptSeed;
    }

    private EndpointState Endpoint(string address, string role)
    {
        if (!_endpoints.TryGetValue(address, out var e))
        {
            var profile = LinkProfile.Unlimited;
            foreach (var r in _net.Actors)
                if (ActorPattern.Matches(r.Actor, address, role)) { profile = r.Profile; break; }
            _endpoints[address] = e = new EndpointState(profile);
        }
        return e;
    }

    private PairState Pair(string from, string fromRole, string to, string toRole)
    {
        if (_pairs.TryGetValue((from, to), out var p)) return p;
        FaultRule? rule = null;
        var index = -1;
        for (var i = 0; i < _plan.Rules.Count; i++)
        {
            var r = _plan.Rules[i];
            if (ActorPattern.Matches(r.From, from, fromRole) && ActorPattern.Matches(r.To, to, toRole)) { rule = r; index = i; break; }
        }
        var parts = new List<int>();
        for (var i = 0; i < _plan.Partitions.Count; i++)
        {
            var pr = _plan.Partitions[i];
            bool InA(string a, string role) => pr.SideA.Any(x => ActorPattern.Matches(x, a, role));
            bool InB(string a, string role) => pr.SideB.Any(x => ActorPattern.Matches(x, a, role));
            if ((InA(from, fromRole) && InB(to, toRole)) || (InB(from, fromRole) && InA(to, toRole))) parts.Add(i);
        }
        PairLinkRule? pairLink = null;
        foreach (var pl in _net.Pairs)
        {
            if ((ActorPattern.Matches(pl.From, from, fromRole) && ActorPattern.Matches(pl.To, to, toRole))
                || (pl.Bidirectional && ActorPattern.Matches(pl.From, to, toRole) && ActorPattern.Matches(pl.To, from, fromRole)))
            { pairLink = pl; break; }
        }
        var seed = ActorAddress.StableHash(to, ActorAddress.StableHash(from, _seed ^ 0x5DEECE66DUL));
        p = new PairState
        {
            Rule = rule, RuleIndex = index, Partitions = [.. parts], PairLink = pairLink,
            From = Endpoint(from, fromRole), To = Endpoint(to, toRole), Random = new SeededRandom(seed),
        };
        _pairs[(from, to)] = p;
        return p;
    }

    /// <summary>Decides drops and computes the arrival time of a message departing at <paramref name="depart"/>.</summary>
    public Plan Decide(string from, string fromRole, string to, string toRole, long depart, int size, TrafficStats? stats, ulong id, string type)
    {
        lock (this)
        {
            var p = Pair(from, fromRole, to, toRole);
            var plan = new Plan();
            foreach (var i in p.Partitions)
            {
                var pr = _plan.Partitions[i];
                if (depart >= pr.Start.Ticks && (pr.Duration is null || depart < (pr.Start + pr.Duration.Value).Ticks))
                {
                    Fault("partition", from, to, id, type, size, $"partition {i}");
                    if (stats is not null) stats.Add(Ctr.PartitionDropped);
                    plan.Dropped = true;
                    return plan;
                }
            }
            long extra = 0;
            var reorder = false;
            if (p.Rule is { } r)
            {
                var applies = r.AppliesTo(type);
                // A fixed number of draws per message keeps the stream aligned whatever was decided.
                var uDrop = p.Random.NextDouble();
                var uDup = p.Random.NextDouble();
                var uCorrupt = p.Random.NextDouble();
                var uReorder = p.Random.NextDouble();
                var uDelayP = p.Random.NextDouble();
                var uDelay1 = p.Random.NextDouble();
                var uDelay2 = p.Random.NextDouble();
                var corruptSeed = p.Random.NextULong();
                if (applies && uDrop < r.Drop)
                {
                    Fault("drop", from, to, id, type, size, null);
                    if (stats is not null) stats.Add(Ctr.Dropped);
                    plan.Dropped = true;
                    return plan;
                }
                if (applies && uDup < r.Duplicate)
                {
                    plan.Duplicate = true;
                    Fault("duplicate", from, to, id, type, size, null);
                    if (stats is not null) stats.Add(Ctr.Duplicated);
                }
                if (applies && uCorrupt < r.Corrupt)
                {
                    plan.Corrupt = true;
                    plan.CorruptBits = r.CorruptBits;
                    plan.CorruptSeed = corruptSeed;
                    Fault("corrupt", from, to, id, type, size, $"{r.CorruptBits} bit(s)");
                    if (stats is not null) stats.Add(Ctr.CorruptInjected);
                }
                if (applies && r.Delay is { } d && uDelayP < d.Probability)
                {
                    extra = Sample(d, uDelay1, uDelay2);
                    if (extra > 0)
                    {
                        Fault("delay", from, to, id, type, size, $"{extra / 10} us");
                        if (stats is not null) stats.Add(Ctr.Delayed);
                    }
                }
                if (applies && uReorder < r.Reorder)
                {
                    reorder = true;
                    Fault("reorder", from, to, id, type, size, null);
                    if (stats is not null) stats.Add(Ctr.Reordered);
                }
                if (applies && r.ThrottleBytesPerSecond is { } rate)
                {
                    var start = Math.Max(depart, p.ThrottleFree);
                    p.ThrottleFree = start + TransferTicks(size, rate);
                    var wait = p.ThrottleFree - depart;
                    if (start > depart)
                    {
                        Fault("throttle", from, to, id, type, size, $"{wait / 10} us");
                        if (stats is not null) stats.Add(Ctr.Throttled);
                    }
                    extra += wait;
                }
            }
            var arrival = LinkArrival(p, depart, size) + extra;
            if (reorder) arrival += p.Rule!.ReorderDelay.Ticks;   // held back without holding the link: later messages overtake it
            else
            {
                arrival = Math.Max(arrival, p.LastArrival);          // a link delivers in order
                p.LastArrival = arrival;
            }
            plan.Arrival = arrival;
            return plan;
        }
    }

    private long LinkArrival(PairState p, long depart, int size)
    {
        if (p.PairLink is { } pl)
        {
            var tx = TransferTicks(size, pl.BytesPerSecond);
            var start = _system.IsVirtual && _net.ModelContention ? Math.Max(depart, p.PairLinkFree) : depart;
            if (tx > 0) p.PairLinkFree = start + tx;
            return start + tx + pl.Latency.Ticks;
        }
        var up = p.From.Profile.UplinkBytesPerSecond;
        var down = p.To.Profile.DownlinkBytesPerSecond;
        var latency = p.From.Profile.Latency.Ticks + p.To.Profile.Latency.Ticks;
        if (!_system.IsVirtual || !_net.ModelContention) return depart + TransferTicks(size, Math.Min(up, down)) + latency;
        // Each side is busy only for its own share: the sender's uplink for size/up, the receiver's downlink for
        // size/down. The bytes stream through, so the message is in when the slower side is done. A fast server
        // downlink thus takes slow uploads from many clients in parallel, while uploads to a slow downlink queue up.
        var upTicks = TransferTicks(size, up);
        var downTicks = TransferTicks(size, down);
        var upStart = upTicks > 0 ? Math.Max(depart, p.From.UpFree) : depart;
        var sent = upStart + upTicks;
        if (upTicks > 0) p.From.UpFree = sent;
        var received = sent;
        if (downTicks > 0)
        {
            received = Math.Max(sent, Math.Max(upStart, p.To.DownFree) + downTicks);
            p.To.DownFree = received;
        }
        return received + latency;
    }

    /// <summary>Transfer time of <paramref name="size"/> bytes at <paramref name="bytesPerSecond"/>, in whole ticks (rounded up).</summary>
    internal static long TransferTicks(int size, double bytesPerSecond)
    {
        if (size <= 0 || double.IsPositiveInfinity(bytesPerSecond)) return 0;
        return (long)Math.Ceiling(size * (double)TimeSpan.TicksPerSecond / bytesPerSecond - 1e-9);
    }

    private static long Sample(DelaySpec d, double u1, double u2)
    {
        double ticks = d.Distribution switch
        {
            DelayDistribution.Constant => d.Mean.Ticks,
            DelayDistribution.Uniform => d.Min.Ticks + (d.Max.Ticks - d.Min.Ticks) * u1,
            DelayDistribution.Exponential => -d.Mean.Ticks * Math.Log(1 - u1),
            DelayDistribution.Normal => d.Mean.Ticks + d.StdDev.Ticks * Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2),
            _ => 0,
        };
        // Whole microseconds: keeps last-ulp differences of Math.Log between platforms out of the schedule.
        return Math.Max(0, (long)Math.Round(ticks / 10.0) * 10);
    }

    private void Fault(string kind, string from, string to, ulong id, string type, int size, string? detail)
    {
        _system.Traffic.CountFault(kind);
        _system.Log(new ActorEvent(_system.Engine.NowTicks, "fault", from, to, id, type, size, kind, detail));
    }

    /// <summary>Flips <paramref name="bits"/> distinct bits of the payload, chosen by <paramref name="seed"/>; an empty payload cannot be corrupted.</summary>
    internal static void FlipBits(byte[] payload, int bits, ulong seed)
    {
        if (payload.Length == 0) return;
        var rng = new SeededRandom(seed);
        var total = (long)payload.Length * 8;
        var flipped = new HashSet<long>();
        while (flipped.Count < Math.Min(bits, total))
        {
            var bit = (long)(rng.NextULong() % (ulong)total);
            if (flipped.Add(bit)) payload[bit >> 3] ^= (byte)(1 << (int)(bit & 7));
        }
    }

    /// <summary>Probability crashes: decided before each delivery to a matching actor, from the actor's own stream.</summary>
    public bool ShouldCrashOnDelivery(ActorCell cell, out CrashMode mode)
    {
        mode = CrashMode.Restart;
        if (!HasCrashProbabilities) return false;
        lock (this)
        {
            var address = cell.Self.Address;
            if (!_crashStreams.TryGetValue(address, out var s))
            {
                var rule = _plan.Crashes.FirstOrDefault(c => c.Probability > 0 && ActorPattern.Matches(c.Actor, address, cell.Role));
                _crashStreams[address] = s = new CrashState { Rule = rule, Random = new SeededRandom(ActorAddress.StableHash(address, _seed ^ 0xC4A5UL)) };
            }
            if (s.Rule is null) return false;
            var u = s.Random.NextDouble();
            mode = s.Rule.Mode;
            return u < s.Rule.Probability;
        }
    }

    /// <summary>Arms the timed crashes of the plan on the system clock.</summary>
    public void ScheduleTimedCrashes()
    {
        foreach (var c in _plan.Crashes)
        {
            if (c.At is not { } at) continue;
            var rule = c;
            _system.Engine.ScheduleAt(at.Ticks, 0, () =>
            {
                var targets = _system.LocalCells().Where(x => ActorPattern.Matches(rule.Actor, x.Self.Address, x.Role))
                    .OrderBy(x => x.Self.Address, StringComparer.Ordinal).ToList();
                if (targets.Count == 0)
                {
                    _system.Log(new ActorEvent(_system.Engine.NowTicks, "fault", null, rule.Actor, 0, null, 0, "crash", "no matching actor"));
                    return;
                }
                foreach (var t in targets) t.SendSystem(new SystemMessage.Crash(rule.Mode));
            });
        }
    }
}
