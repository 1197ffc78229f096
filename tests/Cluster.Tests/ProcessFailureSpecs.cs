using System.Collections.Concurrent;
using System.Diagnostics;
using CoFUsfl.Actors;
using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Cluster.Tests.Messages;

namespace CoFUsfl.Cluster.Tests;

/// <summary>Failure detection of real node processes: kill -9, SIGSTOP/SIGCONT, and a clean exit.</summary>
[Collection("broker")]
public class ProcessFailureSpecs(BrokerFixture broker)
{
    private static void Signal(Process p, string signal)
    {
        using var k = Process.Start("kill", [$"-{signal}", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        k.WaitForExit();
        k.ExitCode.Should().Be(0, $"kill -{signal} {p.Id} must succeed");
    }

    private static BlockingCollection<MemberEvent> Watch(RabbitMqTransport t)
    {
        var events = new BlockingCollection<MemberEvent>();
        t.Membership!.Subscribe(events.Add);
        return events;
    }

    private static (MemberEvent Event, TimeSpan After) Next(BlockingCollection<MemberEvent> events, string node, MemberEventKind kind, TimeSpan within)
    {
        var sw = Stopwatch.StartNew();
        var seen = new List<MemberEvent>();
        while (sw.Elapsed < within)
            if (events.TryTake(out var e, TimeSpan.FromMilliseconds(50)))
            {
                if (e.Member.Node.Name == node && e.Kind == kind) return (e, sw.Elapsed);
                seen.Add(e);
            }
        throw new TimeoutException($"no {kind} of {node} within {within}; saw: {string.Join("; ", seen)}");
    }

    /// <summary>The child answers an echo: it really hosts actors reachable through the broker.</summary>
    private static void Echo(ActorSystem coordinator, string node)
    {
        var got = new BlockingCollection<Numbered>();
        var me = coordinator.ActorOf(Props.Create(() => new Recorder(got, false)));
        coordinator.Resolve($"{node}/user/echo").Tell(new Numbered { N = 7 }, me);
        got.Take(1, TimeSpan.FromSeconds(20)).Single().N.Should().Be(7);
        coordinator.Stop(me);
    }

    [Fact]
    public void Kill_9_of_a_node_process_makes_it_leave_within_seconds_and_its_actors_unreachable()
    {
        var (c, tc) = broker.Node("pk-coord", o => o with { UnreachableAfter = TimeSpan.FromSeconds(2) });
        using (c)
        {
            var events = Watch(tc);
            using var child = NodeProcess.Start(broker, "pk-worker");
            Next(events, "pk-worker", MemberEventKind.Joined, TimeSpan.FromSeconds(20));
            Echo(c, "pk-worker");

            child.Kill();   // SIGKILL: no leave, the kernel closes the socket
            var (left, after) = Next(events, "pk-worker", MemberEventKind.Left, TimeSpan.FromSeconds(15));
            left.Reason.Should().Contain("inbox vanished");
            after.Should().BeLessThan(TimeSpan.FromSeconds(8), "a dead process is found by its missing heartbeats plus one inbox probe");

            c.Resolve("pk-worker/user/echo").Tell(new Numbered { N = 8 });
            SpinWait.SpinUntil(() => c.DeadLetterCount > 0, TimeSpan.FromSeconds(5)).Should().BeTrue("a message to a departed node is a dead letter, not a silent drop");
            c.RecentDeadLetters.Should().Contain(d => d.Recipient == "pk-worker/user/echo");
        }
    }

    [Fact]
    public void SIGSTOP_of_a_node_process_is_detected_as_unreachable_within_the_deadline_and_SIGCONT_brings_it_back()
    {
        var deadline = TimeSpan.FromSeconds(1.5);
        var (c, tc) = broker.Node("ps-coord", o => o with { UnreachableAfter = deadline });
        using (c)
        {
            var events = Watch(tc);
            using var child = NodeProcess.Start(broker, "ps-worker");
            try
            {
                Next(events, "ps-worker", MemberEventKind.Joined, TimeSpan.FromSeconds(20));
                Signal(child, "STOP");
                var (unreachable, after) = Next(events, "ps-worker", MemberEventKind.Unreachable, TimeSpan.FromSeconds(10));
                after.Should().BeGreaterThan(deadline - TimeSpan.FromSeconds(0.5), "the deadline, not anything sooner, makes it unreachable")
                    .And.BeLessThan(deadline + TimeSpan.FromSeconds(2.5), "the deadline plus a heartbeat interval and a check tick (slack for a loaded machine)");
                unreachable.Member.Status.Should().Be(MemberStatus.Unreachable);
                tc.Membership!.Find("ps-worker")!.Status.Should().Be(MemberStatus.Unreachable, "its connection and inbox still exist");

                Signal(child, "CONT");
                Next(events, "ps-worker", MemberEventKind.Reachable, TimeSpan.FromSeconds(10));
                Echo(c, "ps-worker");
            }
            finally
            {
                try { Signal(child, "CONT"); } catch (Exception) { /* best effort before the kill */ }
                child.Kill();
            }
        }
    }

    [Fact]
    public void A_node_process_that_exits_cleanly_leaves_with_a_leave_message()
    {
        var (c, tc) = broker.Node("pl-coord");
        using (c)
        {
            var events = Watch(tc);
            using var child = NodeProcess.Start(broker, "pl-worker");
            Next(events, "pl-worker", MemberEventKind.Joined, TimeSpan.FromSeconds(20));
            child.StandardInput.Close();
            Next(events, "pl-worker", MemberEventKind.Left, TimeSpan.FromSeconds(20)).Event.Reason.Should().Contain("clean shutdown");
            child.WaitForExit(20_000).Should().BeTrue();
            child.ExitCode.Should().Be(0);
        }
    }
}
