using CoFUsfl.Actors.Tests.Messages;
using Google.Protobuf;

namespace CoFUsfl.Actors.Tests;

public class VirtualTimeSpecs
{
    private static Blob BlobOfEnvelopeSize(int envelopeSize, string sender, string recipient, ulong id)
    {
        // Find the payload length whose envelope is exactly envelopeSize bytes (length prefixes make it non-linear).
        for (var n = envelopeSize - 200; n < envelopeSize; n++)
        {
            var blobSize = 1 + CodedOutputStream.ComputeLengthSize(n) + n;
            if (EnvelopeCodec.ComputeSize(sender, recipient, id, 0, Blob.Descriptor.FullName, blobSize) == envelopeSize)
                return new Blob { Data = ByteString.CopyFrom(new byte[n]) };
        }
        throw new InvalidOperationException("no payload length gives that envelope size");
    }

    private static NetworkOptions Links(params (string Actor, LinkProfile Profile)[] rules) =>
        new() { Actors = [.. rules.Select(r => new ActorLinkRule(r.Actor, r.Profile))] };

    private static readonly LinkProfile OneMBps = new() { UplinkBytesPerSecond = 1e6, DownlinkBytesPerSecond = 1e6 };

    [Fact]
    public void A_1_MB_message_over_a_1_MB_per_s_link_arrives_1_s_later()
    {
        var net = new NetworkOptions { Pairs = [new PairLinkRule { From = "client", To = "server", BytesPerSecond = 1e6 }] };
        using var system = Systems.Virtual(new ActorSystemOptions { Network = net });
        var (server, inbox) = system.Probe("server");
        var client = system.ActorOf(Props.Create(() => new Forwarder(server)), "client");
        system.RunUntil(TimeSpan.FromSeconds(5));
        // Message 1 goes from outside to the client (no link), message 2 is the client's upload: exactly 1,000,000 envelope bytes.
        client.Tell(BlobOfEnvelopeSize(1_000_000, client.Address, server.Address, 2));
        system.RunUntilIdle();
        inbox.All.Single().At.Should().Be(TimeSpan.FromSeconds(6));
        system.Traffic.Get("client", "server", Blob.Descriptor.FullName).BytesDelivered.Should().Be(1_000_000);
    }

    [Fact]
    public void Latency_of_both_ends_adds_to_the_transfer_time_over_the_slower_side()
    {
        var net = Links(("client-*", new LinkProfile { UplinkBytesPerSecond = 500_000, Latency = TimeSpan.FromMilliseconds(30) }),
                        ("server", new LinkProfile { DownlinkBytesPerSecond = 1e6, Latency = TimeSpan.FromMilliseconds(20) }));
        using var system = Systems.Virtual(new ActorSystemOptions { Network = net });
        var (server, inbox) = system.Probe("server");
        var client = system.ActorOf(Props.Create(() => new Forwarder(server)), "client-1");
        system.RunUntilIdle();
        var t0 = system.Now;
        client.Tell(new Blob { Data = ByteString.CopyFrom(new byte[100_000]) });
        system.RunUntilIdle();
        var size = system.Traffic.Get("client", "server", Blob.Descriptor.FullName).BytesDelivered;
        // Hop 1, from outside to the client: the client's latency (30 ms). Hop 2: 30 + 20 ms latency, and the
        // transfer at min(client uplink 0.5 MB/s, server downlink 1 MB/s).
        var expected = TimeSpan.FromMilliseconds(30) + TimeSpan.FromTicks((long)Math.Ceiling(size * 1e7 / 500_000)) + TimeSpan.FromMilliseconds(50);
        (inbox.All.Single().At - t0).Should().Be(expected);
    }

    private sealed class Forwarder(ActorRef target) : Actor
    {
        protected override void OnReceive(object message) => target.Tell(message);
    }

    [Fact]
    public void Simultaneous_uploads_share_the_receivers_downlink()
    {
        var net = Links(("server", new LinkProfile { DownlinkBytesPerSecond = 1e6 }));
        using var system = Systems.Virtual(new ActorSystemOptions { Network = net });
        var (server, inbox) = system.Probe("server");
        var clients = Enumerable.Range(0, 3).Select(i => system.ActorOf(Props.Create(() => new Forwarder(server)), $"client-{i}")).ToList();
        system.RunUntilIdle();
        foreach (var c in clients) c.Tell(new Blob { Data = ByteString.CopyFrom(new byte[999_900]) });
        system.RunUntilIdle();
        var arrivals = inbox.All.Select(x => x.At.TotalSeconds).ToList();
        arrivals.Should().HaveCount(3);
        arrivals[0].Should().BeApproximately(1, 0.001);
        arrivals[1].Should().BeApproximately(2, 0.001);
        arrivals[2].Should().BeApproximately(3, 0.001);
    }

    [Fact]
    public void Slow_uploads_to_a_fast_downlink_proceed_in_parallel_and_each_side_is_busy_only_for_its_share()
    {
        // Three clients at 100 kB/s upload ~1 MB each to a server with a 10 MB/s downlink: each takes ~10 s on its own
        // uplink; the server's downlink is busy 0.1 s per message, so they arrive together, not 10 s apart.
        var net = Links(("client-*", new LinkProfile { UplinkBytesPerSecond = 1e5 }), ("server", new LinkProfile { DownlinkBytesPerSecond = 1e7 }));
        using var system = Systems.Virtual(new ActorSystemOptions { Network = net });
        var (server, inbox) = system.Probe("server");
        var clients = Enumerable.Range(0, 3).Select(i => system.ActorOf(Props.Create(() => new Forwarder(server)), $"client-{i}")).ToList();
        system.RunUntilIdle();
        foreach (var c in clients) c.Tell(new Blob { Data = ByteString.CopyFrom(new byte[999_900]) });
        system.RunUntilIdle();
        var arrivals = inbox.All.Select(x => x.At.TotalSeconds).ToList();
        arrivals.Should().HaveCount(3);
        arrivals[0].Should().BeApproximately(10, 0.001);
        arrivals[1].Should().BeApproximately(10.1, 0.001, "the downlink takes 0.1 s per message: only that part queues");
        arrivals[2].Should().BeApproximately(10.2, 0.001);
        // Two messages from one client queue on its own uplink.
        var t0 = system.Now.TotalSeconds;
        clients[0].Tell(new Blob { Data = ByteString.CopyFrom(new byte[999_900]) });
        clients[0].Tell(new Blob { Data = ByteString.CopyFrom(new byte[999_900]) });
        system.RunUntilIdle();
        var more = inbox.All.Skip(3).Select(x => x.At.TotalSeconds - t0).ToList();
        more[0].Should().BeApproximately(10, 0.01);
        more[1].Should().BeApproximately(20, 0.01);
    }

    /// <summary>Simulates a compute step: charges time, then reports.</summary>
    private sealed class Trainer(ActorRef report) : Actor
    {
        protected override void OnReceive(object message)
        {
            var ms = (int)message;
            Context.ChargeTime(TimeSpan.FromMilliseconds(ms));
            report.Tell(new Pong { N = ms });
        }
    }

    [Fact]
    public void Charged_compute_time_delays_what_the_handler_sends_and_keeps_the_actor_busy()
    {
        using var system = Systems.Virtual();
        var (report, inbox) = system.Probe("report");
        var trainer = system.ActorOf(Props.Create(() => new Trainer(report)), "trainer");
        system.RunUntilIdle();
        trainer.Tell(100);
        trainer.Tell(250);  // waits until the first step is done
        system.RunUntilIdle();
        inbox.All.Select(x => x.At).Should().Equal(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(350));
        system.Now.Should().Be(TimeSpan.FromMilliseconds(350));
    }

    private sealed class Ticker(Inbox inbox) : Actor
    {
        protected override void PreStart()
        {
            Context.Timers.StartPeriodicTimer("tick", "tick", TimeSpan.FromSeconds(1));
            Context.Timers.StartSingleTimer("once", "once", TimeSpan.FromMilliseconds(2500));
            Context.Timers.StartSingleTimer("cancelled", "never", TimeSpan.FromSeconds(2));
            Context.Timers.Cancel("cancelled");
        }

        protected override void OnReceive(object message)
        {
            inbox.Add(message, null, Context.Now);
            if (Context.Now >= TimeSpan.FromSeconds(4)) Context.Timers.Cancel("tick");
        }
    }

    [Fact]
    public void Timers_fire_on_the_virtual_clock_and_cancelled_timers_never_fire()
    {
        using var system = Systems.Virtual();
        var inbox = new Inbox();
        system.ActorOf(Props.Create(() => new Ticker(inbox)), "ticker");
        system.RunUntilIdle();
        inbox.All.Select(x => (x.Message, x.At.TotalMilliseconds)).Should().Equal(
            ("tick", 1000.0), ("tick", 2000.0), ("once", 2500.0), ("tick", 3000.0), ("tick", 4000.0));
    }

    [Fact]
    public void RunUntil_stops_at_the_given_time_and_the_scheduler_tells_later()
    {
        using var system = Systems.Virtual();
        var (probe, inbox) = system.Probe("probe");
        system.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(10), probe, "late");
        var repeating = system.Scheduler.ScheduleTellRepeatedly(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), probe, "rep");
        system.RunUntil(TimeSpan.FromSeconds(3.5));
        system.Now.Should().Be(TimeSpan.FromSeconds(3.5));
        inbox.Count.Should().Be(3);
        repeating.Cancel();
        system.RunUntilIdle();
        inbox.All.Select(x => x.Message).Should().Equal("rep", "rep", "rep", "late");
        inbox.All.Last().At.Should().Be(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Run_methods_refuse_a_real_time_system()
    {
        using var system = Systems.Real();
        var act = () => system.RunUntilIdle();
        act.Should().Throw<InvalidOperationException>();
    }

    /// <summary>A small federated round: clients compute (charged time), upload over their links, the server aggregates and broadcasts.</summary>
    private sealed class Client(ActorRef server, int index) : Actor
    {
        protected override void OnReceive(object message)
        {
            if (message is Ping p)
            {
                Context.ChargeTime(TimeSpan.FromMilliseconds(10 + index * 3));
                server.Tell(new Blob { Data = ByteString.CopyFrom(new byte[1000 + index * 100]), Seq = p.N });
            }
        }
    }

    /// <summary>Each round: broadcast, collect uploads until a round timer fires (lost uploads must not stall the run).</summary>
    private sealed class Server(int clients, int rounds) : Actor
    {
        private int _round;
        protected override void OnReceive(object message)
        {
            if (message is Blob) Context.ChargeTime(TimeSpan.FromMilliseconds(1));
            else if (message is "start" or "round-over" && _round++ < rounds)
            {
                Context.ChargeTime(TimeSpan.FromMilliseconds(5));
                foreach (var c in Context.Children.OrderBy(c => c.Address, StringComparer.Ordinal)) c.Tell(new Ping { N = _round });
                Context.Timers.StartSingleTimer("round", "round-over", TimeSpan.FromMilliseconds(400));
            }
        }

        protected override void PreStart()
        {
            for (var i = 0; i < clients; i++)
            {
                var index = i;
                Context.ActorOf(Props.Create(() => new Client(Self, index)), $"client-{i}");
            }
        }
    }

    private static string RunScenario(long seed, TieBreak tieBreak)
    {
        var log = new StringWriter();
        var options = new ActorSystemOptions
        {
            Seed = seed,
            TieBreak = tieBreak,
            EventLog = log,
            Network = Links(("client-*", new LinkProfile { UplinkBytesPerSecond = 2e5, DownlinkBytesPerSecond = 1e6, Latency = TimeSpan.FromMilliseconds(5) }),
                            ("server", new LinkProfile { DownlinkBytesPerSecond = 5e5 })),
            Faults = new FaultPlan
            {
                Seed = seed,
                Rules = [new FaultRule { From = "client-*", To = "server", Drop = 0.05, Duplicate = 0.05, Corrupt = 0.05, Delay = new DelaySpec { Distribution = DelayDistribution.Exponential, Mean = TimeSpan.FromMilliseconds(20) } }],
            },
        };
        using (var system = Systems.Virtual(options))
        {
            system.ActorOf(Props.Create(() => new Server(20, 10)), "server").Tell("start");
            system.RunUntilIdle(TimeSpan.FromMinutes(10));
        }
        return log.ToString();
    }

    [Fact]
    public void Two_runs_of_the_same_seeded_scenario_produce_byte_identical_event_logs()
    {
        var a = RunScenario(7, TieBreak.SeededShuffle);
        var b = RunScenario(7, TieBreak.SeededShuffle);
        a.Split('\n').Length.Should().BeGreaterThan(200);
        a.Should().Contain("\"kind\":\"fault\"").And.Contain("\"kind\":\"deliver\"").And.Contain("\"kind\":\"corrupt-detected\"");
        b.Should().Be(a);
    }

    [Fact]
    public void A_different_seed_gives_a_different_run()
    {
        RunScenario(8, TieBreak.SeededShuffle).Should().NotBe(RunScenario(7, TieBreak.SeededShuffle));
    }

    /// <summary>Asks the server from inside a handler and pipes the reply to itself, the Akka way to await in an actor.</summary>
    private sealed class Asker(ActorRef server, Inbox inbox) : Actor
    {
        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case "go":
                    Context.ChargeTime(TimeSpan.FromMilliseconds(7));
                    server.Ask<Pong>(new Ping { N = 1 }, TimeSpan.FromSeconds(1)).PipeTo(Self);
                    break;
                default:
                    inbox.Add(message, Sender, Context.Now);
                    break;
            }
        }
    }

    [Fact]
    public void Ask_from_inside_an_actor_travels_over_its_links_and_PipeTo_brings_the_reply_back()
    {
        var net = Links(("client-*", new LinkProfile { Latency = TimeSpan.FromMilliseconds(10) }),
                        ("server", new LinkProfile { Latency = TimeSpan.FromMilliseconds(5) }));
        using var system = Systems.Virtual(new ActorSystemOptions { Network = net });
        var server = system.ActorOf(Props.Create<Echo>(), "server");
        var inbox = new Inbox();
        var client = system.ActorOf(Props.Create(() => new Asker(server, inbox)), "client-1");
        system.RunUntilIdle();
        client.Tell("go");
        system.RunUntilIdle();
        // 7 ms compute, then 15 ms there and 15 ms back.
        inbox.All.Single().Message.Should().Be(new Pong { N = 1 });
        inbox.All.Single().At.Should().Be(TimeSpan.FromMilliseconds(37));
        system.Traffic.Get("client", "server", Ping.Descriptor.FullName).MessagesDelivered.Should().Be(1);
        system.Traffic.Get("server", "client", Pong.Descriptor.FullName).MessagesDelivered.Should().Be(1);
    }
}
