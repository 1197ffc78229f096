namespace CoFUsfl.Actors;

/// <summary>Fact: a watched actor has stopped. Delivered to every watcher as an ordinary message.</summary>
public sealed record Terminated(ActorRef Actor);

/// <summary>Command: stop after processing the messages that precede this one.</summary>
public sealed class PoisonPill
{
    /// <summary>The one instance.</summary>
    public static PoisonPill Instance { get; } = new();
    private PoisonPill() { }
}

/// <summary>Command: fail with <see cref="ActorKilledException"/> (the supervisor decides what follows).</summary>
public sealed class Kill
{
    /// <summary>The one instance.</summary>
    public static Kill Instance { get; } = new();
    private Kill() { }
}

/// <summary>Raised inside an actor that received <see cref="Kill"/>.</summary>
public sealed class ActorKilledException(string actor) : Exception($"{actor} was killed");

/// <summary>Reply carrying a failure: an Ask receiving it fails with <see cref="Cause"/>.</summary>
public sealed record StatusFailure(Exception Cause);

/// <summary>A message that could not be delivered, and why.</summary>
public sealed record DeadLetter(object Message, string? Sender, string Recipient, string Reason);

/// <summary>Thrown by <see cref="ActorRef.Tell"/> into a full bounded mailbox whose overflow strategy is <see cref="OverflowStrategy.Fail"/>.</summary>
public sealed class MailboxFullException(string recipient) : Exception($"mailbox of {recipient} is full");

/// <summary>An Ask got no reply in time.</summary>
public sealed class AskTimeoutException(string target, TimeSpan timeout)
    : TimeoutException($"no reply from {target} within {timeout}");

/// <summary>An actor name is taken or malformed.</summary>
public sealed class InvalidActorNameException(string message) : Exception(message);

/// <summary>Internal lifecycle commands, processed before user messages.</summary>
internal abstract class SystemMessage
{
    internal sealed class Create : SystemMessage { public static readonly Create Instance = new(); }
    internal sealed class Recreate(Exception cause) : SystemMessage { public Exception Cause { get; } = cause; }
    internal sealed class Resume : SystemMessage { public static readonly Resume Instance = new(); }
    internal sealed class Terminate(string reason) : SystemMessage { public string Reason { get; } = reason; }
    internal sealed class Watch(ActorCell watcher) : SystemMessage { public ActorCell Watcher { get; } = watcher; }
    internal sealed class Unwatch(ActorCell watcher) : SystemMessage { public ActorCell Watcher { get; } = watcher; }
    internal sealed class DeathWatchNotification(ActorRef actor) : SystemMessage { public ActorRef Actor { get; } = actor; }
    internal sealed class Failed(ActorCell child, Exception cause) : SystemMessage
    {
        public ActorCell Child { get; } = child;
        public Exception Cause { get; } = cause;
    }
    internal sealed class ChildTerminated(ActorCell child) : SystemMessage { public ActorCell Child { get; } = child; }
    internal sealed class Crash(CrashMode mode) : SystemMessage { public CrashMode Mode { get; } = mode; }
}
