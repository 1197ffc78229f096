namespace CoFUsfl.Simulation.Runner;

/// <summary>Callbacks for a live display of a run (all optional; called on the simulation's thread).</summary>
public sealed record RunHooks
{
    public Action<string>? Log { get; init; }
    /// <summary>Problems the run survives but a user must see (an actor failing); also given when <see cref="Log"/> is null. Null = standard error.</summary>
    public Action<string>? Warn { get; init; }
    public Action<uint, int>? RoundStarted { get; init; }
    public Action<uint, System.Text.Json.Nodes.JsonObject>? RoundCompleted { get; init; }
    public Action<string>? ClientFinished { get; init; }
}
