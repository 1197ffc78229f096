using CoFUsfl.Actors;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Strategies;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>Everything known at the end of a round: outcome, server statistics, times, and the global model's two halves.</summary>
public sealed record RoundRecord(uint Round, RoundResult Result, ServerStats Server, TimeSpan SimulatedTime, TimeSpan SimulatedRoundTime,
    TimeSpan WallRoundTime, ParameterSet ServerParameters, ParameterSet ClientParameters)
{
    /// <summary>The split server's optimizer state, present when a checkpoint is due this round (see <see cref="RunSchedule.CheckpointDue"/>).</summary>
    public ParameterSet? ServerOptimizer { get; init; }
    /// <summary>
    /// The split server's per-client parameters and their optimizer state (FedLC, see <see cref="Split.ServerPersonalization.State"/>),
    /// present when a checkpoint or a per-client evaluation is due and <c>federation.server-personal</c> is set.
    /// </summary>
    public ParameterSet? ServerPersonal { get; init; }
}

/// <summary>The coordinator's outlet: recording, evaluation, checkpoints and progress display live behind it.</summary>
public interface IRoundObserver
{
    uint FirstRound { get; }
    void RoundStarted(uint round, int clients);
    /// <summary>Returns whether another round follows.</summary>
    bool RoundCompleted(RoundRecord record, ActorSystem system);
    void Finished();
    /// <summary>Recording a round failed: the run ends with <paramref name="e"/>.</summary>
    void Failed(Exception e);
}
