using CoFUsfl.Models.Codecs;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>A run folder's checkpoints: what a round saves (and <c>--resume</c> reads back), and the codec assembled from them.</summary>
public static class RunCheckpoints
{
    /// <summary>A codec from parameter sets applied in order (a client's personal parameters after the global ones), with fresh CDF tables.</summary>
    public static CompressionModel AssembleCodec(SplitPlan plan, IReadOnlyList<ParameterSet> sets)
    {
        var model = CodecZoo.Create(plan.ModelName, plan.N, plan.M);
        foreach (var set in sets) set.CopyInto(model.named_parameters());
        model.eval();
        model.update();
        return model;
    }

    /// <summary>The split server's per-client parameters beside <c>latest.safetensors</c> (FedLC).</summary>
    public const string ServerPersonalCheckpointFile = "latest.server-personal.safetensors";

    /// <summary>Every client's client-side personal parameters (<c>federation.personal</c>), as <c>client/name</c> (in process only).</summary>
    public const string ClientPersonalCheckpointFile = "latest.client-personal.safetensors";

    /// <summary>
    /// Writes round <paramref name="r"/>'s checkpoint into <paramref name="dir"/>/checkpoints (the global model, the
    /// server's optimizer state, every client's server-side and client-side personal parameters, each with the
    /// configuration it is bound to) and the codec alone as <paramref name="dir"/>/codec.safetensors.
    /// </summary>
    public static void Save(SimulationContext ctx, string dir, RoundRecord r)
    {
        var ckdir = Path.Combine(dir, "checkpoints");
        Directory.CreateDirectory(ckdir);
        using var scope = DisposeScope.Open();
        var all = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var set in new[] { r.ServerParameters, r.ClientParameters })
            foreach (var n in set.Names) all[n] = torch.from_array(set[n].Values, set[n].Shape);
        var meta = new Dictionary<string, string>
        {
            ["round"] = r.Round.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["model"] = ctx.Plan.ModelName, ["n"] = ctx.Plan.N.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["m"] = ctx.Plan.M.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["head"] = ctx.Plan.Head.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["tail"] = ctx.Plan.Tail.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in ResumeKeys.Of(ctx.Options)) meta[ResumeKeys.MetaPrefix + key] = value;
        Safetensors.Save(Path.Combine(ckdir, $"round-{r.Round:D4}.safetensors"), all, meta);
        Safetensors.Save(Path.Combine(ckdir, "latest.safetensors"), all, meta);
        // The server's optimizer state beside the weights, so --resume continues exactly where the run stopped.
        var optimizerPath = Path.Combine(ckdir, "latest.optimizer.safetensors");
        if (r.ServerOptimizer is { } opt)
        {
            var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var n in opt.Names) state[n] = torch.from_array(opt[n].Values, opt[n].Shape);
            Safetensors.Save(optimizerPath, state, meta);
        }
        else File.Delete(optimizerPath);   // never leave an optimizer state that belongs to another round
        // FedLC: every client's own server-side parameters and their Adam state (never part of the global model).
        var personalPath = Path.Combine(ckdir, ServerPersonalCheckpointFile);
        if (r.ServerPersonal is { } personal)
        {
            var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var n in personal.Names) state[n] = torch.from_array(personal[n].Values, personal[n].Shape);
            Safetensors.Save(personalPath, state, meta);
        }
        else File.Delete(personalPath);
        // Every client's own client-side parameters (federation.personal) as of its last finished round. In process only:
        // in cluster mode they live on the workers, and a resume of such a run is refused (SimulationRunner).
        var clientPersonalPath = Path.Combine(ckdir, ClientPersonalCheckpointFile);
        if (ctx.Options.Federation.Personal.Count > 0 && !ctx.ClientPersonalState.IsEmpty)
        {
            var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (client, set) in ctx.ClientPersonalState.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                foreach (var n in set.Names) state[$"{client}/{n}"] = torch.from_array(set[n].Values, set[n].Shape);
            Safetensors.Save(clientPersonalPath, state, meta);
        }
        else File.Delete(clientPersonalPath);
        // The codec alone (CompressAI names), usable by `cofusfl codec compress/decompress/eval`.
        using var codec = AssembleCodec(ctx.Plan, [r.ServerParameters, r.ClientParameters]);
        Safetensors.Save(Path.Combine(dir, "codec.safetensors"), codec.state_dict(), meta);
    }
}
