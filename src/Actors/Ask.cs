namespace CoFUsfl.Actors;

/// <summary>Temporary reference that completes an Ask's task with the first reply; registered under <c>node/temp/</c> so remote replies find it.</summary>
internal sealed class PromiseActorRef<T> : ActorRef
{
    private readonly TaskCompletionSource<T> _tcs;
    private readonly ActorCell? _owner;
    private readonly string _role;
    private ScheduledItem? _timeout;

    public PromiseActorRef(string address, ActorSystem system, ActorCell? owner, TaskCompletionSource<T> tcs) : base(address, system)
    {
        _owner = owner;
        _tcs = tcs;
        _role = owner?.Role ?? "external";
    }

    public override string Role => _role;
    /// <summary>Replies travel over the asking actor's link.</summary>
    internal override ActorCell? Endpoint => _owner;

    public void ArmTimeout(long dueTicks, TimeSpan timeout, string target) =>
        _timeout = System.Engine.ScheduleAt(dueTicks, _owner?.Rank ?? 0, () => Fail(new AskTimeoutException(target, timeout)));

    internal override bool DeliverLocal(object message, ActorRef? sender, bool throwOnFull)
    {
        if (message is Traced t)
        {
            System.OnDelivered(t, sender, null, Address);
            message = t.Message;
        }
        var completed = message switch
        {
            T value => _tcs.TrySetResult(value),
            StatusFailure f => _tcs.TrySetException(f.Cause),
            Protocol.StatusFailure pf => _tcs.TrySetException(new RemoteFailureException(pf.ExceptionType, pf.Message)),
            _ => _tcs.TrySetException(new InvalidCastException($"Ask expected a {typeof(T).Name} reply but got {message.GetType().Name}")),
        };
        if (!completed) System.RecordDeadLetter(new DeadLetter(message, sender?.Address, Address, "ask already completed"));
        Done();
        return completed;
    }

    private void Fail(Exception e)
    {
        _tcs.TrySetException(e);
        Done();
    }

    private void Done()
    {
        _timeout?.Cancel();
        System.UnregisterTemp(Address);
    }
}

/// <summary>A remote actor answered an Ask with a <see cref="Protocol.StatusFailure"/>.</summary>
public sealed class RemoteFailureException(string type, string message) : Exception($"{type}: {message}")
{
    /// <summary>Exception type name on the remote side.</summary>
    public string RemoteType { get; } = type;
}

/// <summary>Request-reply on top of Tell.</summary>
public static class AskExtensions
{
    /// <summary>
    /// Sends <paramref name="message"/> with a temporary sender and completes with the first reply (a
    /// <see cref="StatusFailure"/> reply fails the task), or fails with <see cref="AskTimeoutException"/> after
    /// <paramref name="timeout"/> on the system clock. In virtual time the task completes while the loop runs
    /// (<see cref="ActorSystem.RunUntilComplete{T}"/>), and its continuations run inline on the loop thread.
    /// </summary>
    public static Task<T> Ask<T>(this ActorRef target, object message, TimeSpan? timeout = null) =>
        target.System.Ask<T>(target, message, timeout);

    /// <summary>Sends the task's result (or a <see cref="StatusFailure"/>) to <paramref name="recipient"/> when it completes.</summary>
    public static void PipeTo<T>(this Task<T> task, ActorRef recipient, ActorRef? sender = null)
    {
        sender ??= ActorCell.Current?.Self;
        task.ContinueWith(t =>
        {
            object reply = t.IsCompletedSuccessfully ? t.Result! : new StatusFailure(t.Exception?.InnerException ?? new TaskCanceledException());
            recipient.Tell(reply, sender);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
