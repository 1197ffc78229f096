using CoFUsfl.Actors.Tests.Messages;

namespace CoFUsfl.Actors.Tests;

public class RemoteSpecs
{
    private static (ActorSystem A, ActorSystem B, InMemoryNetwork Net) TwoNodes()
    {
        var net = new InMemoryNetwork();
        var a = Systems.Real(new ActorSystemOptions { NodeName = "node-a", Transport = net.CreateTransport() });
        var b = Systems.Real(new ActorSystemOptions { NodeName = "node-b", Transport = net.CreateTransport() });
        return (a, b, net);
    }

    [Fact]
    public void An_actor_on_another_node_is_reached_by_address_and_its_reply_comes_back()
    {
        var (a, b, net) = TwoNodes();
        using var _a = a;
        using var _b = b;
        b.ActorOf(Props.Create<Echo>(), "server");
        var remote = a.Resolve("node-b/user/server");
        var pong = remote.Ask<Pong>(new Ping { N = 5 }, TimeSpan.FromSeconds(5)).Result;
        pong.N.Should().Be(5);
        net.Carried.Should().Be(2);
        a.Traffic.Get("external", "server", Ping.Descriptor.FullName).BytesSent
            .Should().Be(b.Traffic.Get("external", "server", Ping.Descriptor.FullName).BytesDelivered);
    }

    [Fact]
    public void Tell_between_actors_of_two_nodes_carries_the_sender_address()
    {
        var (a, b, _) = TwoNodes();
        using var _a = a;
        using var _b = b;
        var (probe, inbox) = a.Probe("client-1");
        b.ActorOf(Props.Create<Echo>(), "server");
        a.Resolve("node-b/user/server").Tell(new Ping { N = 8 }, probe);
        inbox.Expect<Pong>().N.Should().Be(8);
        inbox.All.Single().Sender!.Address.Should().Be("node-b/user/server");
    }

    [Fact]
    public void Plain_objects_and_unreachable_nodes_become_dead_letters_with_a_reason()
    {
        var (a, b, _) = TwoNodes();
        using var _a = a;
        using var _b = b;
        a.Resolve("node-b/user/server").Tell("not protobuf");
        a.Resolve("node-c/user/x").Tell(new Ping());
        a.RecentDeadLetters.Select(d => d.Reason).Should().Equal(
            "String is not a Protobuf message and cannot leave the node", "node node-c is unreachable");
        var alone = Systems.Virtual();
        using var _c = alone;
        alone.Resolve("elsewhere/user/x").Tell(new Ping());
        alone.RunUntilIdle();
        alone.RecentDeadLetters.Single().Reason.Should().Be("no transport configured for remote nodes");
    }

    [Fact]
    public void Remote_death_watch_is_refused_explicitly()
    {
        var (a, b, _) = TwoNodes();
        using var _a = a;
        using var _b = b;
        var inbox = new Inbox();
        var remote = a.Resolve("node-b/user/x");
        a.ActorOf(Props.Create(() => new WatchTry(remote, inbox)), "w");
        inbox.Expect<NotSupportedException>();
    }

    private sealed class WatchTry(ActorRef target, Inbox inbox) : Actor
    {
        protected override void PreStart()
        {
            try { Context.Watch(target); }
            catch (NotSupportedException e) { inbox.Add(e, null, TimeSpan.Zero); }
        }
        protected override void OnReceive(object message) { }
    }
}
