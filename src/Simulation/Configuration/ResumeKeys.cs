namespace CoFUsfl.Simulation.Configuration;

/// <summary>The part of a configuration a checkpoint is bound to.</summary>
public static class ResumeKeys
{
    /// <summary>Prefix of the checkpoint metadata keys that record <see cref="Of"/>.</summary>
    public const string MetaPrefix = "config:";

    /// <summary>
    /// What a checkpoint cannot be continued without: the seed, model, split points, codecs, training mode, clients,
    /// personal parameters and the data partition. Checkpoints record them (<see cref="MetaPrefix"/>); a resume that
    /// changes any is refused before the run folder is touched. Rounds, evaluation, learning rates, β and faults may change.
    /// </summary>
    public static IReadOnlyList<(string Key, string Value)> Of(SimulationOptions o)
    {
        static string S(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        static string L(IEnumerable<string> v) => "[" + string.Join(", ", v.Select(x => $"\"{x}\"")) + "]";
        return
        [
            ("cofusfl.seed", o.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("cofusfl.model.name", o.Model.Name), ("cofusfl.model.n", o.Model.N.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("cofusfl.model.m", o.Model.M.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("cofusfl.split.head", o.Split.Head.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("cofusfl.split.tail", o.Split.Tail.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("cofusfl.split.features.uplink", o.Split.Features.Uplink), ("cofusfl.split.features.downlink", o.Split.Features.Downlink),
            ("cofusfl.split.gradients.uplink", o.Split.Gradients.Uplink), ("cofusfl.split.gradients.downlink", o.Split.Gradients.Downlink),
            ("cofusfl.training.mode", o.Training.Mode),
            ("cofusfl.federation.clients", o.Federation.Clients.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("cofusfl.federation.personal", L(o.Federation.Personal)),
            ("cofusfl.federation.server-personal", L(o.Federation.ServerPersonal)),
            ("cofusfl.data.train", L(o.Data.Train)),
            ("cofusfl.data.partition.kind", o.Data.Partition.Kind), ("cofusfl.data.partition.alpha", S(o.Data.Partition.Alpha)),
            ("cofusfl.data.partition.samples-per-client", o.Data.Partition.SamplesPerClient.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ];
    }
}
