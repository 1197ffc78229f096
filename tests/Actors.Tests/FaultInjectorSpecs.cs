using CoFUsfl.Actors.Tests.Messages;
using Google.Protobuf;

namespace CoFUsfl.Actors.Tests;

public class FaultInjectorSpecs
{
    private sealed class Burst(ActorRef target, int count, int bytes = 16) : Actor
    {
        protected override void OnReceive(object message)
        {
            for (var i = 0; i < count; i++)
            {
                var data = new byte[bytes];
                new Random(i).NextBytes(data);
                target.Tell(new Blob { Seq = i, Data = ByteString.CopyFrom(data) });
            }
        }
    }

    private static (ActorSystem System, Inbox Inbox) Run(FaultRule rule, int count, ClockMode clock = ClockMode.Virtual, int bytes = 16, ActorSystemOptions? options = null)
    {
        var system = ActorSystem.Create((options ?? new ActorSystemOptions()) with { Clock = clock, Faults = new FaultPlan { Seed = 11, Rules = [rule] } });
        var (server, inbox) = system.Probe("server");
        system.ActorOf(Props.Create(() => new Burst(server, count, bytes)), "client-1").Tell("go");
        if (clock == ClockMode.Virtual) system.RunUntilIdle();
        else SpinWait.SpinUntil(() => system.Traffic.Total.MessagesSent == count, TimeSpan.FromSeconds(10)).Should().BeTrue();
        return (system, inbox);
    }

    /// <summary>|observed - p| within 4.5 standard deviations of a binomial(n, p) proportion: a correct injector fails this about once in 150,000 runs.</summary>
    private static void WithinBinomialBound(long observed, int n, double p)
    {
        var sd = Math.Sqrt(n * p * (1 - p));
        ((double)observed).Should().BeInRange(n * p - 4.5 * sd, n * p + 4.5 * sd);
    }

    [Theory]
    [InlineData(ClockMode.Virtual)]
    [InlineData(ClockMode.RealTime)]
    public void Observed_drop_rate_is_within_a_binomial_bound_of_the_configured_rate(ClockMode clock)
    {
        const int n = 20_000;
        var (system, inbox) = Run(new FaultRule { From = "client-*", To = "server", Drop = 0.1 }, n, clock);
        using var _ = system;
        var stats = system.Traffic.Get("client", "server", Blob.Descriptor.FullName);
        if (clock == ClockMode.RealTime) SpinWait.SpinUntil(() => inbox.Count == n - stats.Dropped, TimeSpan.FromSeconds(10));
        WithinBinomialBound(stats.Dropped, n, 0.1);
        inbox.Count.Should().Be((int)(n - stats.Dropped));
        system.Traffic.FaultCount("drop").Should().Be(stats.Dropped);
    }

    [Fact]
    public void Observed_duplicate_rate_is_within_a_binomial_bound_and_duplicates_keep_their_message()
    {
        const int n = 20_000;
        var (system, inbox) = Run(new FaultRule { Duplicate = 0.05 }, n);
        using var _ = system;
        var stats = system.Traffic.Get("client", "server", Blob.Descriptor.FullName);
        WithinBinomialBound(stats.Duplicated, n, 0.05);
        inbox.Count.Should().Be(n + (int)stats.Duplicated);
        var seqs = inbox.OfType<Blob>().Select(b => b.Seq).ToList();
        seqs.Distinct().Should().HaveCount(n);
        seqs.Should().BeInAscendingOrder("a duplicate follows its original on an in-order link");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Every_corrupted_payload_is_rejected_by_checksum_and_counted(int bits)
    {
        const int n = 5_000;
        var (system, inbox) = Run(new FaultRule { Corrupt = 0.2, CorruptBits = bits }, n, bytes: 64);
        using var _ = system;
        var stats = system.Traffic.Get("client", "server", Blob.Descriptor.FullName);
        WithinBinomialBound(stats.CorruptInjected, n, 0.2);
        stats.CorruptDetected.Should().Be(stats.CorruptInjected);
        system.Traffic.RejectionCount("checksum mismatch").Should().Be(stats.CorruptInjected);
        inbox.Count.Should().Be((int)(n - stats.CorruptInjected));
        // Whatever was delivered is intact.
        foreach (var b in inbox.OfType<Blob>())
        {
            var expected = new byte[64];
            new Random((int)b.Seq).NextBytes(expected);
            b.Data.ToByteArray().Should().Equal(expected);
        }
    }

    [Fact]
    public void A_partition_stops_traffic_during_its_interval_and_then_traffic_resumes()
    {
        var plan = new FaultPlan
        {
            Partitions = [new PartitionRule { SideA = ["client-*"], SideB = ["server"], Start = TimeSpan.FromSeconds(2), Duration = TimeSpan.FromSeconds(3) }],
        };
        using var system = Systems.Virtual(new ActorSystemOptions { Faults = plan });
        var (server, inbox) = system.Probe("server");
        var client = system.ActorOf(Props.Create(() => new Burst(server, 1)), "client-1");
        system.Scheduler.ScheduleTellRepeatedly(TimeSpan.Zero, TimeSpan.FromSeconds(1), client, "go");
        system.RunUntil(TimeSpan.FromSeconds(7.5));
        inbox.All.Select(x => x.At.TotalSeconds).Should().Equal(0, 1, 5, 6, 7);
        system.Traffic.FaultCount("partition").Should().Be(3);
        system.Traffic.Get("client", "server", Blob.Descriptor.FullName).PartitionDropped.Should().Be(3);
    }

    [Fact]
    public void Delays_follow_the_configured_distribution_in_virtual_time()
    {
        const int n = 4_000;
        var rule = new FaultRule { Delay = new DelaySpec { Distribution = DelayDistribution.Uniform, Min = TimeSpan.FromMilliseconds(10), Max = TimeSpan.FromMilliseconds(30) } };
        var (system, inbox) = Run(rule, n);
        using var _ = system;
        // The link keeps order, so the last arrival is at least the largest delay; the first one shows one sample.
        var times = inbox.All.Select(x => x.At.TotalMilliseconds).ToList();
        times[0].Should().BeInRange(10, 30);
        times.Should().BeInAscendingOrder();
        times[^1].Should().BeInRange(29, 30);
        system.Traffic.FaultCount("delay").Should().Be(n);
    }

    [Fact]
    public void Reordered_messages_are_overtaken_by_later_ones()
    {
        var rule = new FaultRule { Reorder = 0.2, ReorderDelay = TimeSpan.FromMilliseconds(5) };
        var (system, inbox) = Run(rule, 200);
        using var _ = system;
        var seqs = inbox.OfType<Blob>().Select(b => b.Seq).ToList();
        seqs.Should().HaveCount(200);
        seqs.Should().NotBeInAscendingOrder();
        system.Traffic.FaultCount("reorder").Should().BeGreaterThan(10);
    }

    [Fact]
    public void A_throttled_link_carries_no_more_than_its_bytes_per_second()
    {
        var rule = new FaultRule { ThrottleBytesPerSecond = 100_000 };
        var (system, inbox) = Run(rule, 10, bytes: 99_900);
        using var _ = system;
        var bytes = system.Traffic.Get("client", "server", Blob.Descriptor.FullName).BytesDelivered;
        inbox.All.Last().At.TotalSeconds.Should().BeApproximately(bytes / 100_000.0, 1e-6);
        system.Traffic.FaultCount("throttle").Should().Be(9);
    }

    private sealed class Counter(Inbox log) : Actor
    {
        private int _n;
        protected override void PreStart() => log.Add("start", null, Context.Now);
        protected override void OnReceive(object message) => log.Add(++_n, null, Context.Now);
    }

    [Theory]
    [InlineData(CrashMode.Restart)]
    [InlineData(CrashMode.Stop)]
    public void A_crash_at_a_time_stops_or_restarts_the_actor_through_its_supervisor(CrashMode mode)
    {
        var plan = new FaultPlan { Crashes = [new CrashRule { Actor = "client-3", At = TimeSpan.FromSeconds(2.5), Mode = mode }] };
        using var system = Systems.Virtual(new ActorSystemOptions { Faults = plan });
        var log = new Inbox();
        var client = system.ActorOf(Props.Create(() => new Counter(log)), "client-3");
        system.Scheduler.ScheduleTellRepeatedly(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), client, "tick");
        system.RunUntil(TimeSpan.FromSeconds(4.5));
        var expected = mode == CrashMode.Restart ? new object[] { "start", 1, 2, "start", 1, 2 } : ["start", 1, 2];
        log.All.Select(x => x.Message).Should().Equal(expected);
        system.Traffic.FaultCount(mode == CrashMode.Restart ? "crash-restart" : "crash-stop").Should().Be(1);
    }

    [Fact]
    public void Crashes_with_a_probability_happen_at_about_that_rate()
    {
        const int n = 5_000;
        var plan = new FaultPlan { Seed = 3, Crashes = [new CrashRule { Actor = "server", Probability = 0.02, Mode = CrashMode.Restart }] };
        using var system = Systems.Virtual(new ActorSystemOptions { Faults = plan });
        var (server, inbox) = system.Probe("server");
        system.ActorOf(Props.Create(() => new Burst(server, n)), "client-1").Tell("go");
        system.RunUntilIdle();
        var crashes = system.Traffic.FaultCount("crash-restart");
        WithinBinomialBound(crashes, n, 0.02);
        inbox.Count.Should().Be((int)(n - crashes));
        system.Traffic.LifecycleCount("restart").Should().Be(crashes);
    }

    [Fact]
    public void The_same_fault_plan_replays_the_same_fate_per_link_even_in_real_time()
    {
        const int n = 2_000;
        List<long> Delivered()
        {
            var (system, inbox) = Run(new FaultRule { Drop = 0.3 }, n, ClockMode.RealTime);
            using var _ = system;
            var dropped = system.Traffic.Get("client", "server", Blob.Descriptor.FullName).Dropped;
            SpinWait.SpinUntil(() => inbox.Count == n - dropped, TimeSpan.FromSeconds(10));
            return inbox.OfType<Blob>().Select(b => b.Seq).ToList();
        }
        Delivered().Should().Equal(Delivered());
    }

    [Fact]
    public void Fault_rules_apply_to_matching_links_only()
    {
        var plan = new FaultPlan { Rules = [new FaultRule { From = "client-1", To = "server", Drop = 1.0 }] };
        using var system = Systems.Virtual(new ActorSystemOptions { Faults = plan });
        var (server, inbox) = system.Probe("server");
        system.ActorOf(Props.Create(() => new Burst(server, 10)), "client-1").Tell("go");
        system.ActorOf(Props.Create(() => new Burst(server, 10)), "client-2").Tell("go");
        system.RunUntilIdle();
        inbox.Count.Should().Be(10);
        system.Traffic.FaultCount("drop").Should().Be(10);
    }

    [Fact]
    public void Invalid_fault_plans_are_refused_with_a_reason()
    {
        var act = () => Systems.Virtual(new ActorSystemOptions { Faults = new FaultPlan { Rules = [new FaultRule { Drop = 1.5 }] } });
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*[0, 1]*");
    }

    [Fact]
    public void Random_delays_in_real_time_keep_the_order_of_a_link()
    {
        const int n = 300;
        var rule = new FaultRule { Delay = new DelaySpec { Distribution = DelayDistribution.Uniform, Min = TimeSpan.FromMilliseconds(1), Max = TimeSpan.FromMilliseconds(20) } };
        var (system, inbox) = Run(rule, n, ClockMode.RealTime);
        using var _ = system;
        SpinWait.SpinUntil(() => inbox.Count == n, TimeSpan.FromSeconds(10)).Should().BeTrue();
        inbox.OfType<Blob>().Select(b => b.Seq).Should().BeInAscendingOrder();
        system.Traffic.FaultCount("delay").Should().Be(n);
    }
}
