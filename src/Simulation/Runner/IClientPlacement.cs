using CoFUsfl.Actors;
using CoFUsfl.Simulation.Metrics;

namespace CoFUsfl.Simulation.Runner;

/// <summary>
/// Where the clients of a run live when not in this process (cluster mode). The runner calls, in order:
/// <see cref="Configure"/> (the system's options: transport, node name), <see cref="PlaceClients"/> (after the server
/// and aggregator exist: fill <see cref="SimulationContext.ClientRefs"/>), <see cref="Settle"/> (after the last round,
/// before the summary) and <see cref="Finish"/> (always, last).
/// </summary>
public interface IClientPlacement
{
    /// <summary>Roles whose actors live on other nodes: their traffic is counted as it arrives here (see <see cref="RunRecorder.RemoteSenderRoles"/>).</summary>
    IReadOnlySet<string> RemoteRoles { get; }
    ActorSystemOptions Configure(ActorSystemOptions options);
    void PlaceClients(ActorSystem system, SimulationContext ctx);
    void Settle(ActorSystem system, SimulationContext ctx);
    void Finish(ActorSystem system, SimulationContext ctx);
}
