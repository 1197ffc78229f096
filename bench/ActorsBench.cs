using System.Diagnostics;
using System.Text.Json.Nodes;
using CoFUsfl.Actors;
using CoFUsfl.Actors.Protocol;

namespace CoFUsfl.Bench;

/// <summary>
/// Actor runtime: ping-pong throughput between pairs of actors (real time, thread pool), fan-out to 100,000 actors,
/// memory per idle actor, and the virtual-time event rate. Targets: ≥ 5 M msg/s on 2 cores, &lt; 1 KB per idle actor.
/// </summary>
public sealed class ActorsBench : IBenchmarkSuite
{
    public string Name => "actors";
    public string Description => "actor runtime: ping-pong msg/s, fan-out to 100k actors, bytes per idle actor, virtual-time events/s";

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        var quick = options.Quick;
        var env = new JsonObject { ["cores"] = Environment.ProcessorCount };

        // Ping-pong: many pairs, several messages in flight per pair, plain in-process objects (the hot path).
        const int pairs = 32, inFlight = 64;
        var perPair = quick ? 20_000 : 200_000;
        var plain = Repeat(quick ? 1 : 5, () => PingPong(new ActorSystemOptions { CountTraffic = false }, pairs, inFlight, perPair, proto: false));
        yield return new BenchResult(Name, "pingpong", plain, "msg/s", With(env, ("pairs", pairs), ("in_flight_per_pair", inFlight), ("messages", (long)pairs * perPair), ("options", "defaults, plain objects")));

        // Protobuf messages with traffic accounting on (envelope size computed per message, counters per key).
        var counted = Repeat(quick ? 1 : 3, () => PingPong(new ActorSystemOptions(), pairs, inFlight, perPair / 4, proto: true));
        yield return new BenchResult(Name, "pingpong-protobuf-counted", counted, "msg/s", With(env, ("pairs", pairs), ("in_flight_per_pair", inFlight), ("options", "count-traffic on, Protobuf payload")));

        var serialized = Repeat(quick ? 1 : 3, () => PingPong(new ActorSystemOptions { SerializeMessages = true }, pairs, inFlight, perPair / 20, proto: true));
        yield return new BenchResult(Name, "pingpong-protobuf-serialized", serialized, "msg/s", With(env, ("options", "serialize-messages on: every message through the envelope")));

        // Fan-out to 100,000 actors, then memory per idle actor (they have all processed one message).
        var n = quick ? 20_000 : 100_000;
        var (spawnPerSec, fanoutPerSec, bytesPerActor) = FanOut(n);
        yield return new BenchResult(Name, "spawn", spawnPerSec, "actors/s", With(env, ("actors", n)));
        yield return new BenchResult(Name, "fanout", fanoutPerSec, "msg/s", With(env, ("actors", n), ("note", "one message to each actor, until all handled")));
        yield return new BenchResult(Name, "idle-actor-memory", bytesPerActor, "bytes/actor", With(env, ("actors", n), ("note", "managed heap growth / actors, after each handled one message")));

        // Virtual time: the single-threaded discrete-event loop with links and accounting on.
        var events = Repeat(quick ? 1 : 3, () => VirtualRate(quick ? 20_000 : 200_000));
        yield return new BenchResult(Name, "virtual-time", events, "msg/s", With(env, ("note", "100 clients <-> server over links, Protobuf messages, count-traffic on")));
    }

    private static JsonObject With(JsonObject env, params (string Key, object Value)[] extra)
    {
        var o = (JsonObject)env.DeepClone();
        foreach (var (k, v) in extra)
            o[k] = v switch { int i => i, long l => l, string s => s, double d => d, _ => v.ToString() };
        return o;
    }

    private static double Repeat(int times, Func<double> run)
    {
        run(); // warm-up (JIT, thread pool)
        return Measure.Median([.. Enumerable.Range(0, times).Select(_ => run())]);
    }

    private sealed class Ball { public static readonly Ball Instance = new(); }

    /// <summary>
    /// Ping-pong between <paramref name="pairs"/> pairs with <paramref name="inFlight"/> balls each. Every player answers its
    /// first <c>limit</c> messages and signals when it has received that many, so both players of a pair reach the limit.
    /// </summary>
    private static double PingPong(ActorSystemOptions options, int pairs, int inFlight, int perPair, bool proto)
    {
        using var system = ActorSystem.Create(options);
        object ball = proto ? new NodeIdentity { Name = "ball", Incarnation = 1 } : Ball.Instance;
        var limit = perPair / 2;
        var finished = new CountdownEvent(pairs * 2);
        var refs = new List<(ActorRef A, ActorRef B)>();
        for (var i = 0; i < pairs; i++)
            refs.Add((system.ActorOf(Props.Create(() => new Player(limit, finished, ball)), $"a-{i}"),
                      system.ActorOf(Props.Create(() => new Player(limit, finished, ball)), $"b-{i}")));
        Thread.Sleep(50);
        var t0 = Stopwatch.GetTimestamp();
        foreach (var (a, b) in refs)
            for (var k = 0; k < inFlight; k++) a.Tell(ball, b);
        if (!finished.Wait(TimeSpan.FromMinutes(2))) throw new TimeoutException("ping-pong did not finish");
        var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return (double)pairs * 2 * limit / seconds;
    }

    private sealed class Player(int limit, CountdownEvent finished, object ball) : Actor
    {
        private int _received;
        protected override void OnReceive(object message)
        {
            var n = ++_received;
            if (n <= limit) Sender!.Tell(ball, Self);
            if (n == limit) finished.Signal();
        }
    }

    private sealed class Sink(CountdownEvent done) : Actor
    {
        protected override void OnReceive(object message) => done.Signal();
    }

    private static (double SpawnPerSec, double FanoutPerSec, double BytesPerActor) FanOut(int n)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var system = ActorSystem.Create(new ActorSystemOptions { CountTraffic = false });
        var done = new CountdownEvent(n);
        var props = Props.Create(() => new Sink(done));
        Thread.Sleep(20);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var before = GC.GetTotalMemory(true);
        var t0 = Stopwatch.GetTimestamp();
        var refs = new ActorRef[n];
        for (var i = 0; i < n; i++) refs[i] = system.ActorOf(props, $"worker-{i}");
        var spawn = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var t1 = Stopwatch.GetTimestamp();
        foreach (var r in refs) r.Tell(Ball.Instance);
        if (!done.Wait(TimeSpan.FromMinutes(2))) throw new TimeoutException("fan-out did not finish");
        var fanout = Stopwatch.GetElapsedTime(t1).TotalSeconds;
        Thread.Sleep(50);   // let the last turns finish (trimming mailboxes)
        var after = GC.GetTotalMemory(true);
        var bytes = (after - before - (long)n * IntPtr.Size /* the refs array */) / (double)n;
        GC.KeepAlive(refs);
        return (n / spawn, n / fanout, bytes);
    }

    private sealed class SimClient(ActorRef server) : Actor
    {
        protected override void OnReceive(object message)
        {
            if (message is NodeIdentity m && m.Incarnation > 0)
            {
                Context.ChargeTime(TimeSpan.FromMilliseconds(1));
                server.Tell(new NodeIdentity { Name = m.Name, Incarnation = m.Incarnation - 1 });
            }
        }
    }

    private sealed class SimServer : Actor
    {
        protected override void OnReceive(object message)
        {
            if (message is NodeIdentity { Incarnation: > 0 } m) Sender!.Tell(m);
        }
    }

    private static double VirtualRate(int messages)
    {
        var net = new NetworkOptions
        {
            Actors = [new ActorLinkRule("client-*", new LinkProfile { UplinkBytesPerSecond = 1e6, DownlinkBytesPerSecond = 1e7, Latency = TimeSpan.FromMilliseconds(10) })],
        };
        using var system = ActorSystem.Create(new ActorSystemOptions { Clock = ClockMode.Virtual, Network = net });
        var server = system.ActorOf(Props.Create(() => new SimServer()), "server");
        const int clients = 100;
        var per = (ulong)(messages / clients);
        for (var i = 0; i < clients; i++)
            system.ActorOf(Props.Create(() => new SimClient(server)), $"client-{i}").Tell(new NodeIdentity { Name = "x", Incarnation = per });
        var t0 = Stopwatch.GetTimestamp();
        system.RunUntilIdle();
        var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return system.Traffic.Total.MessagesDelivered / seconds;
    }
}
