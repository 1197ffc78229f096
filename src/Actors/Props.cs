namespace CoFUsfl.Actors;

/// <summary>Recipe for an actor: how to build an instance (again, on restart), its mailbox, role and supervision of its children.</summary>
public sealed record Props
{
    private Props(Func<Actor> factory) => Factory = factory;

    /// <summary>Builds one instance (called again on every restart).</summary>
    public Func<Actor> Factory { get; }
    /// <summary>null = the system's default mailbox.</summary>
    public MailboxOptions? Mailbox { get; init; }
    /// <summary>Traffic-counter and fault-rule role; null = derived from the name (<see cref="ActorAddress.DefaultRole"/>).</summary>
    public string? Role { get; init; }
    /// <summary>How this actor supervises its children, unless the actor overrides <see cref="Actor.SupervisorStrategy"/>.</summary>
    public SupervisorStrategy? SupervisorStrategy { get; init; }

    /// <summary>Props from a factory; called once per incarnation (start and every restart).</summary>
    public static Props Create(Func<Actor> factory) => new(factory ?? throw new ArgumentNullException(nameof(factory)));

    /// <summary>Props for a type with a public parameterless constructor.</summary>
    public static Props Create<T>() where T : Actor, new() => new(static () => new T());

    /// <summary>A copy with another mailbox.</summary>
    public Props WithMailbox(MailboxOptions mailbox) => this with { Mailbox = mailbox };
    /// <summary>A copy with another role.</summary>
    public Props WithRole(string role) => this with { Role = role };
    /// <summary>A copy with another strategy for the children.</summary>
    public Props WithSupervisorStrategy(SupervisorStrategy strategy) => this with { SupervisorStrategy = strategy };
}
