using CoFUsfl.Models.Coding;
using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Simulation.Protocol;

#pragma warning disable CS8981, IDE1006

/// <summary>A split's feature entropy model frozen for coding: the CDF tables, the medians they are centred on, and their version.</summary>
public sealed record FrozenFeatureTables(CdfTable Table, float[] Medians, ulong Version)
{
    public FeatureTables ToMessage(uint round, string client, uint split)
    {
        var m = new FeatureTables { Round = round, Client = client, Split = split, Version = Version, Table = Google.Protobuf.ByteString.CopyFrom(Table.Serialize()) };
        m.Medians.AddRange(Medians);
        return m;
    }

    public static FrozenFeatureTables FromMessage(FeatureTables m)
    {
        CdfTable table;
        try { table = CdfTable.Deserialize(m.Table.Span); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"feature tables v{m.Version:x} from {m.Client} (split {m.Split}): {e.Message}", e);
        }
        return new FrozenFeatureTables(table, m.Medians.ToArray(), m.Version);
    }
}

/// <summary>How a split's feature entropy model gets its density.</summary>
public enum FeatureDensity
{
    /// <summary>A learned factorized density (CompressAI's EntropyBottleneck), frozen into versioned tables at round start.</summary>
    Learned,
    /// <summary>
    /// Forward-adaptive: each message carries per-channel tables of its own histogram (<see cref="AdaptiveCoder"/>);
    /// the training rate is a discretized Laplacian fitted to the batch. Right from the first step, no tables to keep.
    /// </summary>
    Adaptive,
}

/// <summary>
/// The compact-feature model of one split (CoF): a learnable per-channel quantization gain and, for the learned
/// density, a factorized entropy bottleneck over the scaled features. Training gives a differentiable rate estimate;
/// coding writes a real rANS bitstream of the rounded scaled features.
/// </summary>
public sealed class FeatureEntropyModel : Module
{
    public readonly Tensor log_gain;
    /// <summary>The learned density; null for <see cref="FeatureDensity.Adaptive"/>.</summary>
    public readonly EntropyBottleneck? entropy_bottleneck;
    public long Channels { get; }
    public FeatureDensity Density { get; }

    /// <summary>Smallest Laplacian scale of the adaptive rate estimate (in quantization steps), as GaussianConditional bounds σ.</summary>
    public const double MinLaplaceScale = 0.05;

    public FeatureEntropyModel(long channels, double gainInit, Generator? generator = null, FeatureDensity density = FeatureDensity.Learned)
    {
        if (gainInit <= 0 || !double.IsFinite(gainInit)) throw new ArgumentOutOfRangeException(nameof(gainInit), gainInit, "quantization gain must be positive");
        Channels = channels;
        Density = density;
        log_gain = RegisterParameter("log_gain", torch.full([channels], Math.Log(gainInit)));
        if (density == FeatureDensity.Learned)
            entropy_bottleneck = RegisterModule("entropy_bottleneck", new EntropyBottleneck(channels, generator: generator));
    }

    public Tensor gain() => log_gain.exp().reshape(1, Channels, 1, 1);

    /// <summary>The learned density's entropy bottleneck (an error for the adaptive density, which has none).</summary>
    public EntropyBottleneck Bottleneck => entropy_bottleneck ?? throw new InvalidOperationException("the adaptive feature density has no entropy bottleneck");

    /// <summary>
    /// Differentiable bits of <paramref name="scaled"/> ([B, C, H, W], already multiplied by the gain) under a
    /// discretized Laplacian per channel whose location and scale are this batch's own (mean, mean absolute
    /// deviation; not differentiated): −Σ log2 P(ŝ − ½ &lt; S ≤ ŝ + ½), ŝ = s + U(−½, ½) or the STE-rounded s.
    /// The adaptive coder pays the empirical entropy of round(s); this fit tracks it from the first step.
    /// </summary>
    public static Tensor laplace_bits(Tensor scaled, bool noise, Generator? generator)
    {
        var mu = scaled.detach().mean([0, 2, 3], keepdim: true);
        var b = (scaled.detach() - mu).abs().mean([0, 2, 3], keepdim: true).clamp_min(MinLaplaceScale);
        var s = noise ? scaled + torch.uniform_like(scaled, -0.5, 0.5, generator) : ops.round_ste(scaled);
        var a = (s - mu).abs();
        // P = F(a + ½) − F(a − ½) for the symmetric Laplacian, in the form that is stable in each region.
        var t = a - 0.5;
        var tail = (t.neg() / b).exp() * 0.5 * (1.0 - b.reciprocal().neg().exp());
        var centre = 1.0 - ((a + 0.5).neg() / b).exp() * 0.5 - ((0.5 - a).neg() / b).exp() * 0.5;
        var p = torch.where(t.ge(0.0), tail, centre);
        return ops.lower_bound(p, 1e-9).log2().sum().neg();
    }

    /// <summary>Builds the CDF tables from the current density and freezes them with their medians (learned density).</summary>
    public FrozenFeatureTables Freeze()
    {
        var eb = Bottleneck;
        eb.update();
        var table = eb.Table!;
        using var scope = DisposeScope.Open();
        var medians = eb.medians().detach().cpu().reshape(Channels).data<float>();
        var bytes = table.Serialize();
        // Version = content hash of tables + medians: equal tables never need resending.
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        sha.AppendData(bytes);
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(medians.AsSpan()));
        var version = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(sha.GetHashAndReset());
        return new FrozenFeatureTables(table, medians, version);
    }
}
