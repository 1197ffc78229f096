using System.Diagnostics;
using System.Text.Json.Nodes;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>Where the wall time of a run goes (<see cref="WallProfile"/>): one category per kind of work.</summary>
public enum ProfilePart
{
    /// <summary>Cropping and batching the client's training images.</summary>
    ClientData,
    /// <summary>The client's torch forward passes (head g_a, tail g_s, distortion).</summary>
    ClientForward,
    ClientBackward,
    /// <summary>Gradient clipping, the client's Adam steps and its auxiliary (quantile) step.</summary>
    ClientOptimizer,
    /// <summary>A client taking up the global model at round start and packing its update at the end.</summary>
    ClientModelSync,
    /// <summary>The body's forward pass and the image rate terms.</summary>
    ServerForward,
    ServerBackward,
    /// <summary>Gradient clipping, the server's Adam steps and the auxiliary loss of its entropy models.</summary>
    ServerOptimizer,
    /// <summary>The torch part of a feature codec: gain, training rate estimate, rounding, symbols to the host.</summary>
    FeatureQuantize,
    /// <summary>Entropy coding of split features (tables, rANS) and their wire form.</summary>
    FeatureEncode,
    FeatureDecode,
    /// <summary>A gradient to the host, its per-channel steps and (stochastic) rounding.</summary>
    GradientQuantize,
    /// <summary>Entropy coding of gradients (tables, rANS) and their wire form.</summary>
    GradientEncode,
    GradientDecode,
    /// <summary>Kodak evaluation through real bitstreams (assembling the codec included).</summary>
    Evaluation,
    /// <summary>Safetensors checkpoints and the codec file.</summary>
    Checkpoints,
    /// <summary>metrics.jsonl, TensorBoard events, summary plots.</summary>
    MetricsIo,
}

/// <summary>
/// Wall time per <see cref="ProfilePart"/>, accumulated from a few <see cref="Stopwatch"/> timestamps per step
/// (thread-safe: real-clock runs measure on several threads, so there the parts may add up to more than the wall time).
/// What no part measures — actor runtime, link model, serialization, aggregation — is reported as <c>other</c>.
/// Measures this process only: in cluster mode the workers' clients are not in it.
/// </summary>
public sealed class WallProfile
{
    private static readonly ProfilePart[] Parts = Enum.GetValues<ProfilePart>();
    private readonly long[] ticks = new long[Parts.Length];
    private readonly int[] collectionsAtStart = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
    private readonly TimeSpan pauseAtStart = GC.GetTotalPauseDuration();
    private readonly long allocatedAtStart = GC.GetTotalAllocatedBytes();

    /// <summary>Adds the time since <paramref name="since"/> to <paramref name="part"/> and moves <paramref name="since"/> to now (laps).</summary>
    public void Lap(ProfilePart part, ref long since)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref ticks[(int)part], now - since);
        since = now;
    }

    /// <summary>Adds the time since <paramref name="since"/> to <paramref name="part"/>.</summary>
    public void Add(ProfilePart part, long since) => Interlocked.Add(ref ticks[(int)part], Stopwatch.GetTimestamp() - since);

    public double Seconds(ProfilePart part) => (double)Interlocked.Read(ref ticks[(int)part]) / Stopwatch.Frequency;

    /// <summary>The snake_case name of a part in summary.json (<c>client_forward</c>).</summary>
    public static string NameOf(ProfilePart part)
    {
        var s = part.ToString();
        var b = new System.Text.StringBuilder(s.Length + 4);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsUpper(s[i]) && i > 0) b.Append('_');
            b.Append(char.ToLowerInvariant(s[i]));
        }
        return b.ToString();
    }

    /// <summary>Seconds per part, then <c>other</c>: <paramref name="wallSeconds"/> less every part (never below zero).</summary>
    public JsonObject ToJson(double wallSeconds)
    {
        var o = new JsonObject();
        double sum = 0;
        foreach (var p in Parts)
        {
            var s = Seconds(p);
            sum += s;
            o[NameOf(p)] = s;
        }
        o["other"] = Math.Max(0, wallSeconds - sum);
        return o;
    }

    /// <summary>
    /// The garbage collector since this profile began (process-wide): collections per generation, the time the program
    /// was paused for them (inside the parts above, not beside them) and the bytes allocated.
    /// </summary>
    public JsonObject GcJson() => new()
    {
        ["gen0"] = GC.CollectionCount(0) - collectionsAtStart[0],
        ["gen1"] = GC.CollectionCount(1) - collectionsAtStart[1],
        ["gen2"] = GC.CollectionCount(2) - collectionsAtStart[2],
        ["pause_s"] = (GC.GetTotalPauseDuration() - pauseAtStart).TotalSeconds,
        ["allocated_mb"] = (GC.GetTotalAllocatedBytes() - allocatedAtStart) / 1e6,
    };
}
