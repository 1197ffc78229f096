namespace CoFUsfl.Actors.Tests;

public class SupervisionSpecs
{
    /// <summary>Counts messages; "fail:X" throws the exception named X. Reports its lifecycle to the inbox.</summary>
    private sealed class Worker(Inbox log) : Actor
    {
        private int _count;

        protected override void PreStart() => log.Add("start", null, Context.Now);
        protected override void PostStop() => log.Add("stop", null, Context.Now);
        protected override void PreRestart(Exception reason, object? message)
        {
            log.Add($"pre-restart:{reason.GetType().Name}:{message}", null, Context.Now);
            base.PreRestart(reason, message);
        }

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case "fail:arg": throw new ArgumentException("bad");
                case "fail:io": throw new IOException("disk");
                case "fail:op": throw new InvalidOperationException("op");
                case "count": Sender?.Tell(++_count); break;
                default: Unhandled(message); break;
            }
        }
    }

    private sealed class Parent(SupervisorStrategy strategy, Inbox log, int children = 1) : Actor
    {
        protected override SupervisorStrategy SupervisorStrategy => strategy;

        protected override void PreStart()
        {
            for (var i = 0; i < children; i++) Context.ActorOf(Props.Create(() => new Worker(log)), $"worker-{i}");
        }

        protected override void OnReceive(object message)
        {
            if (message is (string child, object m)) Context.System.Resolve($"{Self.Address}/{child}").Tell(m, Sender);
        }
    }

    private static Func<Exception, Directive> Decider => e => e switch
    {
        ArgumentException => Directive.Resume,
        IOException => Directive.Restart,
        InvalidOperationException => Directive.Stop,
        _ => Directive.Escalate,
    };

    private static (ActorSystem System, ActorRef Parent, Inbox Log, ActorRef Probe, Inbox Replies) Setup(SupervisorStrategy? strategy = null, int children = 1)
    {
        var system = Systems.Virtual();
        var log = new Inbox();
        var parent = system.ActorOf(Props.Create(() => new Parent(strategy ?? new OneForOneStrategy(decider: Decider), log, children)), "parent");
        var (probe, replies) = system.Probe("probe");
        system.RunUntilIdle();
        return (system, parent, log, probe, replies);
    }

    private static object[] Messages(Inbox inbox) => [.. inbox.All.Select(x => x.Message)];

    [Fact]
    public void Resume_keeps_the_actor_and_its_state()
    {
        var (system, parent, _, probe, replies) = Setup();
        using var _ = system;
        parent.Tell(("worker-0", (object)"count"), probe);
        parent.Tell(("worker-0", (object)"fail:arg"), probe);
        parent.Tell(("worker-0", (object)"count"), probe);
        system.RunUntilIdle();
        Messages(replies).Should().Equal(1, 2);
    }

    [Fact]
    public void Restart_replaces_the_instance_with_fresh_state_and_keeps_the_mailbox()
    {
        var (system, parent, log, probe, replies) = Setup();
        using var _ = system;
        parent.Tell(("worker-0", (object)"count"), probe);
        parent.Tell(("worker-0", (object)"fail:io"), probe);
        parent.Tell(("worker-0", (object)"count"), probe);
        system.RunUntilIdle();
        Messages(replies).Should().Equal(1, 1);
        Messages(log).Should().Equal("start", "pre-restart:IOException:fail:io", "stop", "start");
        system.Traffic.LifecycleCount("restart").Should().Be(1);
    }

    [Fact]
    public void ActorFailed_reports_every_failure_with_the_actor_and_its_exception_before_supervision_acts()
    {
        var (system, parent, log, probe, _) = Setup();
        using var _ = system;
        var seen = new List<(string Actor, string Cause, int LogEntries)>();
        system.ActorFailed += (actor, e) => seen.Add((actor.Address, $"{e.GetType().Name}:{e.Message}", log.All.Count()));
        system.ActorFailed += (_, _) => throw new InvalidOperationException("a broken handler changes nothing");
        parent.Tell(("worker-0", (object)"fail:io"), probe);
        parent.Tell(("worker-0", (object)"fail:arg"), probe);
        system.RunUntilIdle();
        seen.Select(x => (x.Actor, x.Cause)).Should().Equal(
            ("local/user/parent/worker-0", "IOException:disk"), ("local/user/parent/worker-0", "ArgumentException:bad"));
        seen[0].LogEntries.Should().Be(1, "raised before the restart (only the first start is logged by then)");
        system.Traffic.LifecycleCount("restart").Should().Be(1);
    }

    [Fact]
    public void Stop_stops_the_child_and_its_watchers_get_Terminated()
    {
        var (system, parent, log, probe, _) = Setup();
        using var _ = system;
        var worker = system.Resolve("local/user/parent/worker-0");
        var watcherInbox = new Inbox();
        system.ActorOf(Props.Create(() => new Watcher(worker, watcherInbox)), "watcher");
        system.RunUntilIdle();
        parent.Tell(("worker-0", (object)"fail:op"), probe);
        system.RunUntilIdle();
        Messages(log).Should().Equal("start", "stop");
        watcherInbox.Expect<Terminated>().Actor.Should().Be(worker);
    }

    private sealed class Watcher(ActorRef target, Inbox inbox) : Actor
    {
        protected override void PreStart() => Context.Watch(target);
        protected override void OnReceive(object message) => inbox.Add(message, Sender, Context.Now);
    }

    private sealed class Grandparent(Inbox log) : Actor
    {
        protected override SupervisorStrategy SupervisorStrategy => new OneForOneStrategy(decider: _ => Directive.Restart);
        protected override void PreStart() =>
            Context.ActorOf(Props.Create(() => new Parent(new OneForOneStrategy(decider: _ => Directive.Escalate), log)), "parent");
        protected override void OnReceive(object message) => Context.System.Resolve($"{Self.Address}/parent").Tell(message, Sender);
    }

    [Fact]
    public void Escalate_fails_the_supervisor_whose_own_supervisor_restarts_it_with_its_children()
    {
        using var system = Systems.Virtual();
        var log = new Inbox();
        var gp = system.ActorOf(Props.Create(() => new Grandparent(log)), "gp");
        var (probe, replies) = system.Probe("probe");
        system.RunUntilIdle();
        gp.Tell(("worker-0", (object)"count"), probe);
        system.RunUntilIdle();
        gp.Tell(("worker-0", (object)"fail:io"), probe);
        system.RunUntilIdle();
        gp.Tell(("worker-0", (object)"count"), probe);
        system.RunUntilIdle();
        // The parent restarted: its default PreRestart stopped the old worker and PreStart made a new one.
        Messages(replies).Should().Equal(1, 1);
        Messages(log).Should().Equal("start", "stop", "start");
    }

    [Fact]
    public void More_restarts_than_allowed_within_the_window_stop_the_child()
    {
        var (system, parent, log, probe, _) = Setup(new OneForOneStrategy(maxRetries: 2, within: TimeSpan.FromMinutes(1)));
        using var _ = system;
        for (var i = 0; i < 3; i++)
        {
            parent.Tell(("worker-0", (object)"fail:io"), probe);
            system.RunUntilIdle();
        }
        system.Traffic.LifecycleCount("restart").Should().Be(2);
        Messages(log).Last().Should().Be("stop");
        system.Resolve("local/user/parent/worker-0").Should().BeOfType(system.DeadLetters.GetType());
    }

    [Fact]
    public void Restarts_back_off_exponentially_in_virtual_time()
    {
        var backoff = new RestartBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        var (system, parent, log, probe, _) = Setup(new OneForOneStrategy(decider: _ => Directive.Restart, backoff: backoff));
        using var _ = system;
        var starts = new List<TimeSpan>();
        for (var i = 0; i < 4; i++)
        {
            var t0 = system.Now;
            parent.Tell(("worker-0", (object)"fail:io"), probe);
            system.RunUntilIdle();
            starts.Add(log.All.Last().At - t0);
        }
        starts.Should().Equal(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void AllForOne_restarts_every_child_when_one_fails()
    {
        var (system, parent, log, probe, _) = Setup(new AllForOneStrategy(decider: _ => Directive.Restart), children: 3);
        using var _ = system;
        parent.Tell(("worker-1", (object)"fail:io"), probe);
        system.RunUntilIdle();
        Messages(log).Count(m => m is "start").Should().Be(6);
        system.Traffic.LifecycleCount("restart").Should().Be(3);
    }

    [Fact]
    public void Kill_fails_the_actor_and_the_default_strategy_restarts_it()
    {
        using var system = Systems.Virtual();
        var log = new Inbox();
        var w = system.ActorOf(Props.Create(() => new Worker(log)), "w");
        system.RunUntilIdle();
        w.Tell(Kill.Instance);
        system.RunUntilIdle();
        Messages(log).Should().Equal("start", "pre-restart:ActorKilledException:CoFUsfl.Actors.Kill", "stop", "start");
    }

    [Fact]
    public void PoisonPill_stops_after_the_messages_queued_before_it()
    {
        using var system = Systems.Virtual();
        var log = new Inbox();
        var (probe, replies) = system.Probe("probe");
        var w = system.ActorOf(Props.Create(() => new Worker(log)), "w");
        w.Tell("count", probe);
        w.Tell("count", probe);
        w.Tell(PoisonPill.Instance);
        w.Tell("count", probe);
        system.RunUntilIdle();
        Messages(replies).Should().Equal(1, 2);
        Messages(log).Should().Equal("start", "stop");
        system.RecentDeadLetters.Should().ContainSingle(d => d.Message.Equals("count") && d.Reason == "recipient terminated");
    }

    [Fact]
    public void Watching_an_already_stopped_actor_delivers_Terminated_at_once()
    {
        using var system = Systems.Virtual();
        var (dead, _) = system.Probe("dead");
        system.Stop(dead);
        system.RunUntilIdle();
        var inbox = new Inbox();
        system.ActorOf(Props.Create(() => new Watcher(dead, inbox)), "late-watcher");
        system.RunUntilIdle();
        inbox.Expect<Terminated>().Actor.Should().Be(dead);
    }

    [Fact]
    public void Stopping_a_parent_stops_its_children_first()
    {
        var (system, parent, log, _, _) = Setup(children: 2);
        using var _ = system;
        var watcherInbox = new Inbox();
        system.ActorOf(Props.Create(() => new Watcher(parent, watcherInbox)), "watcher");
        system.RunUntilIdle();
        system.Stop(parent);
        system.RunUntilIdle();
        Messages(log).Count(m => m is "stop").Should().Be(2);
        watcherInbox.Expect<Terminated>().Actor.Should().Be(parent);
        system.ActorCount.Should().Be(3);   // guardian, probe, watcher
    }

    [Fact]
    public void Death_watch_works_in_real_time()
    {
        using var system = Systems.Real();
        var (target, _) = system.Probe("target");
        var inbox = new Inbox();
        system.ActorOf(Props.Create(() => new Watcher(target, inbox)), "watcher");
        Thread.Sleep(20);
        system.Stop(target);
        inbox.Expect<Terminated>().Actor.Should().Be(target);
    }

    [Fact]
    public void A_failing_constructor_is_handled_by_the_supervisor()
    {
        using var system = Systems.Virtual(new ActorSystemOptions { GuardianStrategy = new OneForOneStrategy(maxRetries: 3) });
        var attempts = 0;
        system.ActorOf(Props.Create(() => { attempts++; throw new IOException("no"); }), "broken");
        system.RunUntilIdle();
        attempts.Should().Be(4);   // first start + 3 restarts, then stopped
        system.ActorCount.Should().Be(1);
    }

    [Fact]
    public void Configured_supervision_applies_to_top_level_actors()
    {
        var supervision = new SupervisionOptions { MaxRetries = 1, Within = TimeSpan.FromMinutes(1), BackoffMin = TimeSpan.FromSeconds(2) };
        using var system = Systems.Virtual(new ActorSystemOptions { Supervision = supervision });
        var log = new Inbox();
        var w = system.ActorOf(Props.Create(() => new Worker(log)), "w");
        system.RunUntilIdle();
        w.Tell("fail:io");
        system.RunUntilIdle();
        log.All.Last().Should().Match<(object Message, ActorRef? Sender, TimeSpan At)>(x => x.Message.Equals("start") && x.At == TimeSpan.FromSeconds(2));
        w.Tell("fail:io");
        system.RunUntilIdle();
        Messages(log).Should().Equal("start", "pre-restart:IOException:fail:io", "stop", "start", "stop");
    }
}
