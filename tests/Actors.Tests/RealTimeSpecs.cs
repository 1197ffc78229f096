using CoFUsfl.Actors.Tests.Messages;

namespace CoFUsfl.Actors.Tests;

public class RealTimeSpecs
{
    private sealed class Ticker(Inbox inbox) : Actor
    {
        private int _ticks;
        protected override void PreStart()
        {
            Context.Timers.StartPeriodicTimer("tick", "tick", TimeSpan.FromMilliseconds(10));
            Context.Timers.StartSingleTimer("once", "once", TimeSpan.FromMilliseconds(15));
            Context.Timers.StartSingleTimer("never", "never", TimeSpan.FromMilliseconds(5));
            Context.Timers.Cancel("never");
        }

        protected override void OnReceive(object message)
        {
            inbox.Add(message, null, Context.Now);
            if (message is "tick" && ++_ticks == 3) Context.Timers.Cancel("tick");
        }
    }

    [Fact]
    public void Timers_fire_on_the_real_clock_and_cancelled_ones_never_do()
    {
        using var system = Systems.Real();
        var inbox = new Inbox();
        system.ActorOf(Props.Create(() => new Ticker(inbox)), "ticker");
        var got = Enumerable.Range(0, 4).Select(_ => inbox.Expect<string>()).ToList();
        got.Should().BeEquivalentTo(["tick", "tick", "tick", "once"]);
        inbox.ExpectNothing(TimeSpan.FromMilliseconds(50));
    }

    private sealed class PingPong(int rounds, Inbox done) : Actor
    {
        protected override void OnReceive(object message)
        {
            if (message is Ping p)
            {
                if (p.N == rounds) done.Add(p.N, null, TimeSpan.Zero);
                else Sender!.Tell(new Ping { N = p.N + 1 });
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Many_concurrent_ping_pong_pairs_complete_on_the_thread_pool(bool serialize)
    {
        using var system = Systems.Real(new ActorSystemOptions { SerializeMessages = serialize });
        var done = new Inbox();
        const int pairs = 50, rounds = 200;
        for (var i = 0; i < pairs; i++)
        {
            var a = system.ActorOf(Props.Create(() => new PingPong(rounds, done)), $"a-{i}");
            var b = system.ActorOf(Props.Create(() => new PingPong(rounds, done)), $"b-{i}");
            a.Tell(new Ping { N = 0 }, b);
        }
        for (var i = 0; i < pairs; i++) done.Expect<long>(TimeSpan.FromSeconds(20));
        system.Traffic.Total.MessagesDelivered.Should().Be(pairs * (rounds + 1));
    }

    [Fact]
    public void Terminate_stops_every_actor()
    {
        var system = Systems.Real();
        for (var i = 0; i < 100; i++) system.ActorOf(Props.Create<Echo>(), $"e-{i}");
        system.Terminate();
        system.WhenTerminated.Wait(TimeSpan.FromSeconds(5)).Should().BeTrue();
        system.ActorCount.Should().Be(0);
        system.Dispose();
    }

    [Fact]
    public void A_blocking_bounded_mailbox_makes_the_sender_wait_for_room()
    {
        using var system = Systems.Real(new ActorSystemOptions { CountTraffic = false });
        var inbox = new Inbox();
        var slow = system.ActorOf(Props.Create(() => new Slow(inbox))
            .WithMailbox(new MailboxOptions { Capacity = 2, Overflow = OverflowStrategy.Block, PushTimeout = TimeSpan.FromSeconds(5) }), "slow");
        for (var i = 0; i < 20; i++) slow.Tell(i);
        Enumerable.Range(0, 20).Select(_ => inbox.Expect<int>()).Should().Equal(Enumerable.Range(0, 20));
        system.DeadLetterCount.Should().Be(0);
    }

    private sealed class Slow(Inbox inbox) : Actor
    {
        protected override void OnReceive(object message)
        {
            Thread.Sleep(1);
            inbox.Add(message, null, TimeSpan.Zero);
        }
    }
}
