using System.Collections.Concurrent;
using CoFUsfl.Actors;
using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Actors.Remote.RabbitMq.Protocol;
using Google.Protobuf;
using RabbitMQ.Client;

namespace CoFUsfl.Cluster.Tests;

/// <summary>Join, leave and failure detection through a real broker.</summary>
[Collection("broker")]
public class MembershipSpecs(BrokerFixture broker)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static BlockingCollection<MemberEvent> Watch(RabbitMqTransport t)
    {
        var events = new BlockingCollection<MemberEvent>();
        t.Membership!.Subscribe(events.Add);
        return events;
    }

    private static MemberEvent Next(BlockingCollection<MemberEvent> events, string node, MemberEventKind kind)
    {
        var deadline = DateTime.UtcNow + Wait;
        var seen = new List<MemberEvent>();
        while (DateTime.UtcNow < deadline)
            if (events.TryTake(out var e, TimeSpan.FromMilliseconds(100)))
            {
                if (e.Member.Node.Name == node && e.Kind == kind) return e;
                seen.Add(e);
            }
        throw new TimeoutException($"no {kind} of {node} within {Wait}; saw: {string.Join("; ", seen)}");
    }

    [Fact]
    public void A_node_joins_with_its_role_and_capacity_and_a_clean_shutdown_is_a_leave()
    {
        var (c, tc) = broker.Node("m-coord", o => o with { Role = "coordinator" });
        using (c)
        {
            var events = Watch(tc);
            var (w, tw) = broker.Node("m-worker", o => o with { Capacity = new NodeCapacity(6, 2) });
            var joined = Next(events, "m-worker", MemberEventKind.Joined);
            joined.Member.Role.Should().Be("worker");
            joined.Member.Capacity.Should().Be(new NodeCapacity(6, 2));
            joined.Member.Node.Should().Be(w.Node, "the member carries the node's incarnation");
            tw.Membership!.WaitForAsync(ms => ms.Any(m => m.Node.Name == "m-coord" && m.Role == "coordinator"), Wait).Wait();

            w.Dispose();
            Next(events, "m-worker", MemberEventKind.Left).Reason.Should().Contain("clean shutdown");
            tc.Membership!.Members.Should().NotContain(m => m.Node.Name == "m-worker");
        }
    }

    [Fact]
    public void A_node_whose_connection_drops_without_a_leave_is_detected_as_gone()
    {
        var (c, tc) = broker.Node("d-coord");
        using (c)
        {
            var events = Watch(tc);
            var (w, tw) = broker.Node("d-worker");
            Next(events, "d-worker", MemberEventKind.Joined);
            var t0 = DateTime.UtcNow;
            tw.Abort();   // like kill -9: the TCP connection closes, no leave is sent
            var left = Next(events, "d-worker", MemberEventKind.Left);
            left.Reason.Should().Contain("inbox vanished");
            (DateTime.UtcNow - t0).Should().BeLessThan(TimeSpan.FromSeconds(10));
            w.Dispose();
        }
    }

    [Fact]
    public async Task A_silent_node_that_keeps_its_connection_becomes_unreachable_within_the_deadline_then_reachable_again()
    {
        var (c, tc) = broker.Node("s-coord", o => o with { UnreachableAfter = TimeSpan.FromSeconds(1.5) });
        using (c)
        {
            var events = Watch(tc);
            // A stand-in for a SIGSTOPped process: its connection and inbox stay, its heartbeats stop.
            var f = new ConnectionFactory { Uri = broker.Uri, UserName = broker.User, Password = broker.Password, VirtualHost = broker.VirtualHost };
            await using var conn = await f.CreateConnectionAsync();
            await using var ch = await conn.CreateChannelAsync();
            await ch.QueueDeclareAsync(RabbitMqTransport.InboxOf("s-frozen"), false, true, true);
            var id = new NodeId("s-frozen", 42);
            async Task Beat(int n)
            {
                for (var i = 0; i < n; i++)
                {
                    var hb = new NodeHeartbeat { Name = id.Name, Incarnation = id.Incarnation, Role = "worker", CpuSlots = 1, Sequence = (ulong)i };
                    await ch.BasicPublishAsync(RabbitMqTransport.MembershipExchange, "", hb.ToByteArray());
                    await Task.Delay(200);
                }
            }
            await Beat(3);
            Next(events, "s-frozen", MemberEventKind.Joined);
            var stoppedAt = DateTime.UtcNow;
            var unreachable = Next(events, "s-frozen", MemberEventKind.Unreachable);
            var detectedAfter = DateTime.UtcNow - stoppedAt;
            detectedAfter.Should().BeGreaterThan(TimeSpan.FromSeconds(1.2), "not before the deadline (1.5 s after the last heartbeat)")
                .And.BeLessThan(TimeSpan.FromSeconds(5), "the deadline plus a check tick (slack for a loaded machine)");
            unreachable.Reason.Should().Contain("no heartbeat");
            tc.Membership!.Find("s-frozen")!.Status.Should().Be(MemberStatus.Unreachable, "its inbox still exists, so it has not left");

            await Beat(2);
            Next(events, "s-frozen", MemberEventKind.Reachable);
            await ch.CloseAsync();
            await conn.CloseAsync();
            Next(events, "s-frozen", MemberEventKind.Left).Reason.Should().Contain("inbox vanished");
        }
    }
}
