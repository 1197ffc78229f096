using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using CoFUsfl.Models.Coding;
using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Torch;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Protocol;

/// <summary>What the sender of split features keeps and sends.</summary>
/// <param name="DataPath">f̂ as the receiver will decode it, still attached to the sender's graph (straight-through).</param>
/// <param name="Bits">Estimated bits of the features under the feature entropy model (differentiable), or null.</param>
/// <param name="Wire">The encoded tensor that goes into the message.</param>
/// <param name="Stats">What the adaptive entropy coder wrote (null for the other codecs).</param>
public sealed record EncodedFeatures(Tensor DataPath, Tensor? Bits, EncodedTensor Wire, CodingStats? Stats = null);

/// <summary>
/// Codec of one split direction: <c>float32</c> (plain U-SFL), <c>int8</c> uniform quantization, or <c>entropy</c>
/// (CoF: gain, rounding, rANS under versioned tables of a learned density) or <c>adaptive</c> (CoF: gain, rounding,
/// rANS under per-channel tables of each message's own histogram).
/// </summary>
public abstract class FeatureCodec
{
    public abstract TensorCodec Kind { get; }

    /// <summary>Where <see cref="Encode"/> adds its wall time (quantization apart from coding); null: not profiled.</summary>
    public WallProfile? Profile { get; set; }

    /// <summary>Encodes features on the sender. <paramref name="training"/>: also compute the rate estimate.</summary>
    public abstract EncodedFeatures Encode(Tensor f, bool training);

    protected void Lap(ProfilePart part, ref long since) => Profile?.Lap(part, ref since);

    public static FeatureCodec Create(string name, FeatureEntropyModel? model) => name switch
    {
        "float32" => new Float32Features(),
        "int8" => new Int8Features(),
        "entropy" => new EntropyFeatures(model ?? throw new ArgumentException("the entropy feature codec needs a feature entropy model")),
        "adaptive" => new AdaptiveFeatures(model ?? throw new ArgumentException("the adaptive feature codec needs a feature entropy model")),
        _ => throw new ArgumentException($"unknown feature codec '{name}' (float32, int8, entropy, adaptive)"),
    };

    /// <summary>The codec names of configuration, and the feature model each needs.</summary>
    public static FeatureDensity? DensityOf(string name) => name switch
    {
        "entropy" => FeatureDensity.Learned,
        "adaptive" => FeatureDensity.Adaptive,
        _ => null,
    };

    /// <summary>
    /// Decodes on the receiver. Entropy-coded features need the sender's frozen tables of the named version;
    /// a missing or different version is an error (the tables message must come first).
    /// </summary>
    public static Tensor Decode(EncodedTensor e, Func<ulong, FrozenFeatureTables?> tables, string what)
    {
        var shape = e.Shape.ToArray();
        var n = TensorWire.ElementCount(shape, what);
        switch (e.Codec)
        {
            case TensorCodec.Float32:
                return TensorWire.FromFloatBytes(e.Data, shape, what);
            case TensorCodec.Int8:
                return TensorWire.FromInt8(e, what);
            case TensorCodec.Entropy:
            {
                var t = tables(e.TableVersion) ?? throw new InvalidDataException($"{what}: no feature tables of version {e.TableVersion:x} (the tables message was not received)");
                if (shape.Length != 4 || e.Strings.Count != shape[0]) throw new InvalidDataException($"{what}: entropy-coded features need shape [B,C,H,W] and one string per batch element");
                var c = shape[1];
                if (e.Gain.Count != c || t.Medians.Length != c) throw new InvalidDataException($"{what}: {e.Gain.Count} gains / {t.Medians.Length} medians for {c} channels");
                float[] values;
                try { values = EntropyModel.DecodeBatch(e.Strings.Select(s => s.Memory).ToList(), EntropyBottleneck.build_indexes(shape), t.Table); }
                catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IndexOutOfRangeException)
                {
                    throw new InvalidDataException($"{what}: {ex.Message}", ex);
                }
                using var scope = DisposeScope.Open();
                var med = torch.from_array(t.Medians, 1, c, 1, 1);
                var gain = torch.from_array(e.Gain.ToArray(), 1, c, 1, 1);
                return ((torch.from_array(values, shape) + med) / gain).MoveToOuterDisposeScope();
            }
            case TensorCodec.Adaptive:
            {
                if (shape.Length != 4 || e.Strings.Count != shape[0] || shape.Any(d => d <= 0))
                    throw new InvalidDataException($"{what}: adaptive features need a shape [B,C,H,W] of positive sizes and one string per batch element");
                var c = shape[1];
                if (e.Gain.Count != c) throw new InvalidDataException($"{what}: {e.Gain.Count} gains for {c} channels");
                if (e.Gain.Any(g => !float.IsFinite(g) || g <= 0)) throw new InvalidDataException($"{what}: a quantization gain is not finite and positive");
                if (n > Array.MaxLength) throw new InvalidDataException($"{what}: {n} feature values are too many");
                // A pooled buffer: the symbols of a message are megabytes (a fresh array would be a large-object allocation).
                var symbols = ArrayPool<int>.Shared.Rent((int)n);
                try
                {
                    try { AdaptiveCoder.Decode(e.Tables.Span, e.Strings.Select(x => x.Memory).ToList(), (int)c, checked((int)(shape[2] * shape[3])), symbols.AsMemory(0, (int)n)); }
                    catch (Exception ex) when (ex is InvalidDataException or OverflowException)
                    {
                        throw new InvalidDataException($"{what}: {ex.Message}", ex);
                    }
                    using var scope = DisposeScope.Open();
                    var gain = torch.from_array(e.Gain.ToArray(), 1, c, 1, 1);
                    return (torch.from_array<int>(symbols.AsSpan(0, (int)n), shape).to(ScalarType.Float32) / gain).MoveToOuterDisposeScope();
                }
                finally { ArrayPool<int>.Shared.Return(symbols); }
            }
            default:
                throw new InvalidDataException($"{what}: codec {e.Codec} is not a feature codec");
        }
    }

    protected static EncodedTensor Make(TensorCodec codec, Tensor f)
    {
        var e = new EncodedTensor { Codec = codec };
        e.Shape.AddRange(f.shape);
        return e;
    }
}

public sealed class Float32Features : FeatureCodec
{
    public override TensorCodec Kind => TensorCodec.Float32;
    public override EncodedFeatures Encode(Tensor f, bool training)
    {
        var t = Stopwatch.GetTimestamp();
        var e = Make(Kind, f);
        e.Data = TensorWire.FloatBytes(f);
        Lap(ProfilePart.FeatureEncode, ref t);
        return new EncodedFeatures(f, null, e);
    }
}

/// <summary>Per-tensor uniform int8 quantization, scale max|f|/127; straight-through on the sender's graph.</summary>
public sealed class Int8Features : FeatureCodec
{
    public override TensorCodec Kind => TensorCodec.Int8;
    public override EncodedFeatures Encode(Tensor f, bool training)
    {
        var t = Stopwatch.GetTimestamp();
        var v = f.detach().cpu().contiguous().data<float>();
        var max = 0f;
        foreach (var x in v) max = Math.Max(max, Math.Abs(x));
        var scale = max > 0 ? max / 127f : 1f;
        var q = new sbyte[v.Length];
        var deq = new float[v.Length];
        for (var i = 0; i < v.Length; i++)
        {
            q[i] = (sbyte)Math.Clamp(MathF.Round(v[i] / scale, MidpointRounding.ToEven), -127, 127);
            deq[i] = q[i] * scale;
        }
        var e = Make(Kind, f);
        e.Data = ByteString.CopyFrom(MemoryMarshal.AsBytes(q.AsSpan()));
        e.Scale = scale;
        var fHat = torch.from_array(deq, f.shape).to(f.device);
        var dataPath = f + (fHat - f).detach();
        Lap(ProfilePart.FeatureEncode, ref t);
        return new EncodedFeatures(dataPath, null, e);
    }
}

/// <summary>CoF: f·gain rounded around the frozen medians, rANS-coded; rate from the feature entropy model.</summary>
public sealed class EntropyFeatures(FeatureEntropyModel model) : FeatureCodec
{
    public FeatureEntropyModel Model { get; } = model;
    /// <summary>Tables frozen at round start; encode fails without them.</summary>
    public FrozenFeatureTables? Tables { get; set; }
    public override TensorCodec Kind => TensorCodec.Entropy;

    public override EncodedFeatures Encode(Tensor f, bool training)
    {
        var t = Tables ?? throw new InvalidOperationException("entropy feature codec: tables not frozen for this round");
        var lap = Stopwatch.GetTimestamp();
        var c = Model.Channels;
        var gain = Model.gain();
        var scaled = f * gain;
        Tensor? bits = null;
        if (training)
        {
            var (_, lik) = Model.Bottleneck.forward(scaled, training: true);
            bits = lik.log2().sum().neg();
        }
        var med = torch.from_array(t.Medians, 1, c, 1, 1).to(f.device);
        var q = ops.round_ste(scaled - med) + med;
        var fHat = q / gain;
        var symbols = EntropyModel.symbols(scaled.detach(), med);
        Lap(ProfilePart.FeatureQuantize, ref lap);
        var shape = f.shape;
        var e = Make(Kind, f);
        e.TableVersion = t.Version;
        e.Gain.AddRange(gain.detach().cpu().reshape(c).data<float>());
        foreach (var s in EntropyModel.EncodeBatch(symbols, EntropyBottleneck.build_indexes(shape), (int)shape[0], t.Table))
            e.Strings.Add(ByteString.CopyFrom(s));
        Lap(ProfilePart.FeatureEncode, ref lap);
        return new EncodedFeatures(fHat, bits, e);
    }
}

/// <summary>
/// CoF with a forward-adaptive density: round(f·gain) coded by <see cref="AdaptiveCoder"/> under per-channel tables
/// of this message's own histogram, sent with it (no table handshake, no version). The training rate is the
/// discretized-Laplacian fit of <see cref="FeatureEntropyModel.laplace_bits"/>; the receiver decodes symbols / gain.
/// </summary>
public sealed class AdaptiveFeatures(FeatureEntropyModel model) : FeatureCodec
{
    public FeatureEntropyModel Model { get; } = model.Density == FeatureDensity.Adaptive ? model : throw new ArgumentException("the adaptive feature codec needs an adaptive feature model");
    /// <summary>Noise of the training rate estimate (uniform noise quantization); null: STE rounding.</summary>
    public Generator? Noise { get; set; }
    public bool NoiseQuantization { get; set; } = true;
    public override TensorCodec Kind => TensorCodec.Adaptive;

    public override EncodedFeatures Encode(Tensor f, bool training)
    {
        var lap = Stopwatch.GetTimestamp();
        var c = Model.Channels;
        var gain = Model.gain();
        var scaled = f * gain;
        var bits = training ? FeatureEntropyModel.laplace_bits(scaled, NoiseQuantization, Noise) : null;
        var fHat = ops.round_ste(scaled) / gain;
        var shape = f.shape;
        var n = checked((int)f.numel());
        // A pooled buffer: the symbols of a message are megabytes (a fresh array would be a large-object allocation).
        var symbols = ArrayPool<int>.Shared.Rent(n);
        AdaptiveCode code;
        try
        {
            EntropyModel.symbols(scaled.detach(), symbols.AsSpan(0, n));
            Lap(ProfilePart.FeatureQuantize, ref lap);
            code = AdaptiveCoder.Encode(symbols.AsMemory(0, n), (int)shape[0], (int)c);
        }
        finally { ArrayPool<int>.Shared.Return(symbols); }
        var e = Make(Kind, f);
        e.Gain.AddRange(gain.detach().cpu().reshape(c).data<float>());
        // The coder's arrays are fresh and never written again: wrapped, not copied.
        e.Tables = UnsafeByteOperations.UnsafeWrap(code.Tables);
        foreach (var s in code.Strings) e.Strings.Add(UnsafeByteOperations.UnsafeWrap(s));
        Lap(ProfilePart.FeatureEncode, ref lap);
        return new EncodedFeatures(fHat, bits, e, code.Stats);
    }
}

/// <summary>Converts the coder's <see cref="CodingStats"/> into the protocol's <see cref="CodingTotals"/> and back.</summary>
public static class CodingTotalsOf
{
    public static CodingTotals From(CodingStats s, long messages) => new()
    {
        Symbols = (ulong)s.Symbols, BytesWritten = (ulong)s.BytesWritten, SideBytes = (ulong)s.SideBytes,
        BitsEstimated = s.BitsEstimated, EntropyBits = s.EntropyBits, Messages = (ulong)messages,
    };

    public static CodingTotals Add(CodingTotals? a, CodingTotals b) => a is null ? b.Clone() : new()
    {
        Symbols = a.Symbols + b.Symbols, BytesWritten = a.BytesWritten + b.BytesWritten, SideBytes = a.SideBytes + b.SideBytes,
        BitsEstimated = a.BitsEstimated + b.BitsEstimated, EntropyBits = a.EntropyBits + b.EntropyBits, Messages = a.Messages + b.Messages,
    };
}
