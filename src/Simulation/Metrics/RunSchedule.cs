using CoFUsfl.Simulation.Configuration;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>Which rounds are evaluated and which write a checkpoint (the coordinator and the recorder ask the same question).</summary>
public static class RunSchedule
{
    /// <summary>Whether round <paramref name="round"/> is evaluated (the last round, and every <c>evaluation.every</c>).</summary>
    public static bool EvaluationDue(SimulationOptions o, uint round) =>
        round == o.Run.Rounds || (o.Evaluation.Every > 0 && round % o.Evaluation.Every == 0);

    /// <summary>Whether round <paramref name="round"/> writes a checkpoint (the last round, and every <c>run.checkpoint-every</c>).</summary>
    public static bool CheckpointDue(SimulationOptions o, uint round) =>
        round == o.Run.Rounds || (o.Run.CheckpointEvery > 0 && round % o.Run.CheckpointEvery == 0);
}
