using CoFUsfl.Simulation.Protocol;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>A finished run folder: its summary, its rounds, and its resolved configuration (as JSON).</summary>
public sealed record RunFolder(string Dir, JsonObject Summary, IReadOnlyList<JsonObject> Rounds)
{
    /// <summary>The run's configuration (its <c>config.conf</c>, bound), or null when the folder has none that binds.</summary>
    public Configuration.SimulationOptions? Options { get; init; }

    public string Name => Summary["name"]?.GetValue<string>() ?? Path.GetFileName(Dir.TrimEnd('/'));

    /// <summary>Reads <c>summary.json</c> and <c>metrics.jsonl</c>; an unfinished or foreign folder is an <see cref="InvalidDataException"/>.</summary>
    public static RunFolder Load(string dir)
    {
        try
        {
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();
            var rounds = File.ReadLines(Path.Combine(dir, "metrics.jsonl")).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            if (summary["bytes_by_kind"] is not JsonObject) throw new InvalidDataException("summary.json has no bytes_by_kind");
            Configuration.SimulationOptions? options = null;
            var config = Path.Combine(dir, "config.conf");
            if (File.Exists(config))
            {
                try { options = Configuration.SimulationConfig.Bind(Hocon.Config.ParseFile(config).Resolve()); }
                catch (Exception e) when (e is Hocon.HoconException or ArgumentException or FormatException or IOException) { options = null; }
            }
            return new RunFolder(dir, summary, rounds) { Options = options };
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or UnauthorizedAccessException or NullReferenceException)
        {
            throw new InvalidDataException($"{dir} is not a finished run folder ({e.Message})", e);
        }
    }
}

/// <summary>One transfer's entropy coding over a whole run (sums of the rounds' <c>coding</c> records).</summary>
public sealed record TransferCoding(string Transfer, long Symbols, long BytesWritten, long SideBytes, double BitsEstimated, double EntropyBits,
    double FirstRoundWrittenOverEntropy, double MaxWrittenOverEntropy)
{
    public double BitsPerSymbolWritten => 8.0 * BytesWritten / Math.Max(1, Symbols);
    public double BitsPerSymbolEstimated => BitsEstimated / Math.Max(1, Symbols);
    public double BitsPerSymbolEntropy => EntropyBits / Math.Max(1, Symbols);
    public double WrittenOverEstimated => 8.0 * BytesWritten / BitsEstimated;
    public double WrittenOverEntropy => 8.0 * BytesWritten / EntropyBits;
}

/// <summary>The figures of one run that a comparison needs.</summary>
public sealed record RunFigures(string Name, string Dir, string FeaturesCodec, string GradientsCodec, double? Beta, long ClientSteps,
    long FeatureBytes, long ProtocolBytes, IReadOnlyDictionary<string, long> TransferBytes,
    double? KodakPsnr, double? KodakMsSsim, double? KodakBpp, int? KodakImages,
    IReadOnlyList<(double FeatureBytes, double ProtocolBytes, double Psnr)> EvalCurve, IReadOnlyList<TransferCoding> Coding, string? ModelHash)
{
    /// <summary>The split features' initial rounding gain (<c>split.features.gain-init</c>), from the run's config.conf.</summary>
    public double? GainInit { get; init; }
}

/// <summary>A run against the baseline: reductions at matched steps and to reach the baseline's final Kodak PSNR.</summary>
public sealed record RunComparison(RunFigures Run, double FeatureReduction, double ProtocolReduction, double? PsnrLoss,
    double? FeatureBytesToTarget, double? ProtocolBytesToTarget, double? FeatureReductionToTarget, double? ProtocolReductionToTarget);

/// <summary>
/// Compares run folders against the first (the baseline, plain U-SFL): bytes of the split features ([1]+[2]) and of
/// the whole protocol ([1]–[4]), at matched steps and to reach the baseline's final Kodak PSNR, and the quality of each
/// trained codec. Everything is read from the run folders.
/// </summary>
public static class Comparison
{
    public static readonly string[] Transfers = [.. Protocol.Transfers.All.Select(t => t.MetricName())];

    public static RunFigures Figures(RunFolder f)
    {
        var s = f.Summary;
        var byKind = s["bytes_by_kind"]!.AsObject();
        var transfers = Transfers.ToDictionary(t => t, t => byKind[t]?.GetValue<long>() ?? 0, StringComparer.Ordinal);
        var features = transfers[Transfers[0]] + transfers[Transfers[1]];
        var protocol = transfers.Values.Sum();
        // Cumulative bytes at each Kodak evaluation.
        var curve = new List<(double, double, double)>();
        double accF = 0, accP = 0;
        long steps = 0;
        foreach (var r in f.Rounds)
        {
            var b = r["bytes"] as JsonObject;
            double Get(string t) => b?[t]?.GetValue<long>() ?? 0;
            accF += Get(Transfers[0]) + Get(Transfers[1]);
            accP += Transfers.Sum(Get);
            steps += (long)(r["messages"]?[Transfers[0]]?.GetValue<long>() ?? 0);
            if (r["eval"]?["psnr"] is { } p) curve.Add((accF, accP, p.GetValue<double>()));
        }
        var coding = new List<TransferCoding>();
        foreach (var t in Transfers)
        {
            var per = f.Rounds.Select(r => r["coding"]?[t]).Where(c => c is not null).ToList();
            if (per.Count == 0) continue;
            long L(JsonNode c, string k) => c[k]?.GetValue<long>() ?? 0;
            double Ratio(JsonNode c) => c["written_over_entropy"]?.GetValue<double>() ?? double.NaN;
            var symbols = per.Sum(c => L(c!, "symbols"));
            coding.Add(new TransferCoding(t, symbols, per.Sum(c => L(c!, "bytes_written")), per.Sum(c => L(c!, "side_bytes")),
                per.Sum(c => c!["bits_per_symbol_estimated"]!.GetValue<double>() * L(c, "symbols")),
                per.Sum(c => c!["bits_per_symbol_entropy"]!.GetValue<double>() * L(c, "symbols")),
                Ratio(per[0]!), per.Max(c => Ratio(c!))));
        }
        var split = s["split"] as JsonObject;
        string Codec(string up, string down)
        {
            var u = split?[up]?.GetValue<string>() ?? "?";
            var d = split?[down]?.GetValue<string>() ?? "?";
            return u == d ? u : $"{u}/{d}";
        }
        return new RunFigures(f.Name, f.Dir, Codec("features_up", "features_down"), Codec("gradients_up", "gradients_down"),
            s["beta"]?.GetValue<double>() ?? f.Options?.Loss.Beta, steps, features, protocol, transfers,
            s["kodak"]?["psnr"]?.GetValue<double>(), s["kodak"]?["ms_ssim"]?.GetValue<double>(), s["kodak"]?["bpp"]?.GetValue<double>(),
            s["kodak"]?["images"]?.GetValue<int>(), curve, coding, s["final_model_hash"]?.GetValue<string>())
        { GainInit = f.Options?.Split.Features.GainInit };
    }

    /// <summary>
    /// Cumulative bytes at which a run's Kodak PSNR first reaches <paramref name="target"/>, interpolated linearly between
    /// its evaluations (null: never reached).
    /// </summary>
    public static double? BytesToReach(IReadOnlyList<(double Bytes, double Psnr)> curve, double target)
    {
        for (var i = 0; i < curve.Count; i++)
        {
            if (curve[i].Psnr < target) continue;
            if (i == 0) return curve[0].Bytes;
            var (b0, p0) = curve[i - 1];
            var (b1, p1) = curve[i];
            return b0 + (b1 - b0) * (target - p0) / (p1 - p0);
        }
        return null;
    }

    public static IReadOnlyList<RunComparison> Compare(IReadOnlyList<RunFigures> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("nothing to compare");
        var baseline = runs[0];
        var target = baseline.KodakPsnr;
        var baseF = target is { } t0 ? BytesToReach(baseline.EvalCurve.Select(c => (c.FeatureBytes, c.Psnr)).ToList(), t0) : null;
        var baseP = target is { } t1 ? BytesToReach(baseline.EvalCurve.Select(c => (c.ProtocolBytes, c.Psnr)).ToList(), t1) : null;
        return runs.Select(r =>
        {
            double? f = target is { } a ? BytesToReach(r.EvalCurve.Select(c => (c.FeatureBytes, c.Psnr)).ToList(), a) : null;
            double? p = target is { } b ? BytesToReach(r.EvalCurve.Select(c => (c.ProtocolBytes, c.Psnr)).ToList(), b) : null;
            return new RunComparison(r, (double)baseline.FeatureBytes / Math.Max(1, r.FeatureBytes), (double)baseline.ProtocolBytes / Math.Max(1, r.ProtocolBytes),
                target is { } tp && r.KodakPsnr is { } rp ? tp - rp : null, f, p,
                f is > 0 && baseF is { } bf ? bf / f : null, p is > 0 && baseP is { } bp ? bp / p : null);
        }).ToList();
    }

    public static JsonObject ToJson(RunComparison c) => new()
    {
        ["run"] = c.Run.Name,
        ["dir"] = c.Run.Dir,
        ["features"] = c.Run.FeaturesCodec,
        ["gradients"] = c.Run.GradientsCodec,
        ["beta"] = c.Run.Beta,
        ["client_steps"] = c.Run.ClientSteps,
        ["bytes_features"] = c.Run.FeatureBytes,
        ["bytes_protocol"] = c.Run.ProtocolBytes,
        ["reduction_features"] = c.FeatureReduction,
        ["reduction_protocol"] = c.ProtocolReduction,
        ["fraction_features"] = 1 / c.FeatureReduction,
        ["fraction_protocol"] = 1 / c.ProtocolReduction,
        ["kodak_psnr"] = c.Run.KodakPsnr,
        ["kodak_ms_ssim"] = c.Run.KodakMsSsim,
        ["kodak_bpp"] = c.Run.KodakBpp,
        ["psnr_loss_vs_first"] = c.PsnrLoss,
        ["bytes_features_to_first_psnr"] = c.FeatureBytesToTarget,
        ["bytes_protocol_to_first_psnr"] = c.ProtocolBytesToTarget,
        ["reduction_features_to_first_psnr"] = c.FeatureReductionToTarget,
        ["reduction_protocol_to_first_psnr"] = c.ProtocolReductionToTarget,
        ["final_model_hash"] = c.Run.ModelHash,
    };
}
