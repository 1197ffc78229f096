using CoFUsfl.Actors.Tests.Messages;

namespace CoFUsfl.Actors.Tests;

public class MessagingSpecs
{

    private sealed class Collector : Actor
    {
        private readonly Dictionary<string, long> _last = [];
        private readonly Inbox _result;
        private readonly int _expected;
        private int _seen;
        private bool _inOrder = true;
        public Collector(Inbox result, int expected) { _result = result; _expected = expected; }

        protected override void OnReceive(object message)
        {
            var s = (Seq)message;
            if (_last.TryGetValue(s.Sender, out var prev) && s.N != prev + 1) _inOrder = false;
            _last[s.Sender] = s.N;
            if (++_seen == _expected) _result.Add(_inOrder, null, Context.Now);
        }
    }

    private sealed class Sender(ActorRef target, string name, int count) : Actor
    {
        protected override void OnReceive(object message)
        {
            for (var i = 0; i < count; i++) target.Tell(new Seq { Sender = name, N = i });
        }
    }

    [Theory]
    [InlineData(ClockMode.RealTime, TieBreak.Fifo)]
    [InlineData(ClockMode.Virtual, TieBreak.Fifo)]
    [InlineData(ClockMode.Virtual, TieBreak.SeededShuffle)]
    public void Messages_from_one_sender_to_one_receiver_arrive_in_send_order(ClockMode clock, TieBreak tieBreak)
    {
        const int senders = 4, each = 5000;
        using var system = ActorSystem.Create(new ActorSystemOptions { Clock = clock, Throughput = 7, TieBreak = tieBreak, Seed = 3 });
        var result = new Inbox();
        var collector = system.ActorOf(Props.Create(() => new Collector(result, senders * each)), "collector");
        for (var s = 0; s < senders; s++)
        {
            var name = $"sender-{s}";
            system.ActorOf(Props.Create(() => new Sender(collector, name, each)), name).Tell("go");
        }
        if (clock == ClockMode.Virtual) system.RunUntilIdle();
        result.Expect<bool>(TimeSpan.FromSeconds(10)).Should().BeTrue();
    }

    [Fact]
    public void Ask_completes_with_the_reply()
    {
        using var system = Systems.Real();
        var echo = system.ActorOf(Props.Create<Echo>(), "echo");
        var pong = echo.Ask<Pong>(new Ping { N = 7 }, TimeSpan.FromSeconds(5)).Result;
        pong.N.Should().Be(7);
    }

    [Fact]
    public void Ask_without_reply_fails_with_AskTimeoutException_after_the_timeout()
    {
        using var system = Systems.Real();
        var (silent, _) = system.Probe("silent");
        var task = silent.Ask<Pong>(new Ping { N = 1 }, TimeSpan.FromMilliseconds(50));
        var act = () => task.Wait(TimeSpan.FromSeconds(5));
        act.Should().Throw<AggregateException>().WithInnerException<AskTimeoutException>();
    }

    [Fact]
    public void Ask_times_out_in_virtual_time_exactly_at_the_timeout()
    {
        using var system = Systems.Virtual();
        var (silent, _) = system.Probe("silent");
        var task = silent.Ask<Pong>(new Ping { N = 1 }, TimeSpan.FromSeconds(3));
        system.RunUntilIdle();
        task.IsFaulted.Should().BeTrue();
        task.Exception!.InnerException.Should().BeOfType<AskTimeoutException>();
        system.Now.Should().Be(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void Ask_with_wrong_reply_type_fails_with_InvalidCastException()
    {
        using var system = Systems.Virtual();
        var echo = system.ActorOf(Props.Create<Echo>(), "echo");
        var task = echo.Ask<Pong>("not a pong");
        var act = () => system.RunUntilComplete(task);
        act.Should().Throw<InvalidCastException>();
    }

    private sealed class Switcher : ReceiveActor
    {
        public Switcher()
        {
            Receive<string>(s => s == "flip", _ => Become(Flipped));
            Receive<string>(s => Sender!.Tell("normal:" + s));
        }

        private void Flipped()
        {
            Receive<string>(s => s == "flip", _ => Become(() => Receive<string>(s => Sender!.Tell("again:" + s))));
            Receive<string>(s => Sender!.Tell("flipped:" + s));
            Receive<int>(i => Sender!.Tell(i * 2));
        }
    }

    [Fact]
    public void ReceiveActor_dispatches_by_type_and_Become_switches_handlers()
    {
        using var system = Systems.Virtual();
        var (probe, inbox) = system.Probe("probe");
        var sw = system.ActorOf(Props.Create(() => new Switcher()), "switcher");
        sw.Tell("a", probe);
        sw.Tell(21, probe);          // unhandled before the switch
        sw.Tell("flip", probe);
        sw.Tell("b", probe);
        sw.Tell(21, probe);
        sw.Tell("flip", probe);
        sw.Tell("c", probe);
        system.RunUntilIdle();
        inbox.All.Select(x => x.Message).Should().Equal("normal:a", "flipped:b", 42, "again:c");
        system.RecentDeadLetters.Should().ContainSingle(d => d.Reason == "unhandled" && d.Message.Equals(21));
    }

    private sealed class Stacked : Actor
    {
        protected override void OnReceive(object message)
        {
            if (message is "push") Context.Become(m => { if (m is "pop") Context.Unbecome(); else Sender!.Tell("top:" + m); }, discardOld: false);
            else Sender!.Tell("base:" + message);
        }
    }

    [Fact]
    public void Become_without_discarding_stacks_behaviours_and_Unbecome_pops_them()
    {
        using var system = Systems.Virtual();
        var (probe, inbox) = system.Probe("probe");
        var a = system.ActorOf(Props.Create(() => new Stacked()), "stacked");
        foreach (var m in new[] { "x", "push", "y", "pop", "z" }) a.Tell(m, probe);
        system.RunUntilIdle();
        inbox.All.Select(x => x.Message).Should().Equal("base:x", "top:y", "base:z");
    }

    [Fact]
    public void Messages_to_a_stopped_actor_become_dead_letters()
    {
        using var system = Systems.Virtual();
        var (probe, _) = system.Probe("probe");
        system.Stop(probe);
        system.RunUntilIdle();
        probe.Tell(new Ping { N = 1 });
        system.RunUntilIdle();
        system.DeadLetterCount.Should().Be(1);
        system.RecentDeadLetters[0].Reason.Should().Be("recipient terminated");
        system.RecentDeadLetters[0].Message.Should().BeOfType<Ping>();
    }

    [Fact]
    public void A_bounded_mailbox_drops_the_overflow_as_dead_letters()
    {
        using var system = Systems.Virtual();
        var inbox = new Inbox();
        var a = system.ActorOf(Props.Create(() => new Probe(inbox)).WithMailbox(MailboxOptions.Bounded(3)), "bounded");
        system.RunUntilIdle();   // let it start
        var accepted = Enumerable.Range(0, 5).Select(i => a.TryTell(i)).ToList();
        system.RunUntilIdle();
        // In virtual time messages reach the mailbox when their arrival event runs, so TryTell accepts them all,
        // and the mailbox refuses the overflow on arrival.
        accepted.Should().AllSatisfy(x => x.Should().BeTrue());
        inbox.All.Select(x => x.Message).Should().Equal(0, 1, 2);
        system.RecentDeadLetters.Select(d => d.Reason).Should().Equal("mailbox full", "mailbox full");
    }

    [Fact]
    public void A_full_bounded_mailbox_with_Fail_overflow_throws_to_the_sender_in_real_time()
    {
        using var system = Systems.Real(new ActorSystemOptions { CountTraffic = false });
        var gate = new ManualResetEventSlim();
        var blocker = system.ActorOf(Props.Create(() => new Blocking(gate)).WithMailbox(MailboxOptions.Bounded(2, OverflowStrategy.Fail)), "blocker");
        blocker.Tell("block");
        SpinWait.SpinUntil(() => Blocking.Entered, TimeSpan.FromSeconds(5)).Should().BeTrue();
        blocker.Tell(1);
        blocker.Tell(2);
        var act = () => blocker.Tell(3);
        act.Should().Throw<MailboxFullException>();
        blocker.TryTell(4).Should().BeFalse();
        gate.Set();
    }

    private sealed class Blocking(ManualResetEventSlim gate) : Actor
    {
        public static volatile bool Entered;
        protected override void OnReceive(object message)
        {
            if (message is "block") { Entered = true; gate.Wait(TimeSpan.FromSeconds(10)); }
        }
    }

    [Fact]
    public void Sender_is_the_telling_actor_and_replies_reach_it()
    {
        using var system = Systems.Virtual();
        var (probe, inbox) = system.Probe("probe");
        var echo = system.ActorOf(Props.Create<Echo>(), "echo");
        echo.Tell(new Ping { N = 3 }, probe);
        system.RunUntilIdle();
        inbox.All.Single().Message.Should().Be(new Pong { N = 3 });
        inbox.All.Single().Sender.Should().Be(echo);
    }

    [Fact]
    public void Actor_names_are_unique_among_siblings_and_addresses_are_node_slash_path()
    {
        using var system = Systems.Virtual(new ActorSystemOptions { NodeName = "n1" });
        var a = system.ActorOf(Props.Create<Echo>(), "client-17");
        a.Address.Should().Be("n1/user/client-17");
        a.Role.Should().Be("client");
        var dup = () => system.ActorOf(Props.Create<Echo>(), "client-17");
        dup.Should().Throw<InvalidActorNameException>();
        system.Resolve("n1/user/client-17").Should().BeSameAs(a);
        system.Resolve("n2/user/x").Node.Should().Be("n2");
    }

    [Fact]
    public void Actors_cannot_be_constructed_outside_ActorOf()
    {
        var act = () => new Echo();
        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Tell_from_outside_has_no_sender()
    {
        using var system = Systems.Virtual();
        var (probe, inbox) = system.Probe("probe");
        probe.Tell("hi");
        system.RunUntilIdle();
        inbox.All.Single().Sender.Should().BeNull();
    }

    [Fact]
    public void PipeTo_sends_the_result_of_a_task_to_an_actor()
    {
        using var system = Systems.Virtual();
        var (probe, inbox) = system.Probe("probe");
        var echo = system.ActorOf(Props.Create<Echo>(), "echo");
        echo.Ask<Pong>(new Ping { N = 5 }).PipeTo(probe);
        system.RunUntilIdle();
        inbox.All.Single().Message.Should().Be(new Pong { N = 5 });
    }
}
