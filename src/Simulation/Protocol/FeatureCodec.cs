using System.Runtime.InteropServices;
using CoFUsfl.Models.Coding;
using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Torch;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Protocol;

/// <summary>What the sender of split features keeps and sends.</summary>
/// <param name="DataPath">f̂ as the receiver will decode it, still attached to the sender's graph (straight-through).</param>
/// <param name="Bits">Estimated bits of the features under the feature entropy model (differentiable), or null.</param>
/// <param name="Wire">The encoded tensor that goes into the message.</param>
public sealed record EncodedFeatures(Tensor DataPath, Tensor? Bits, EncodedTensor Wire);

/// <summary>
/// Codec of one split direction: <c>float32</c> (plain U-SFL), <c>int8</c> uniform quantization, or <c>entropy</c>
/// (CoF: gain, rounding, rANS under versioned tables).
/// </summary>
public abstract class FeatureCodec
{
    public abstract TensorCodec Kind { get; }

    /// <summary>Encodes features on the sender. <paramref name="training"/>: also compute the rate estimate.</summary>
    public abstract EncodedFeatures Encode(Tensor f, bool training);

    public static FeatureCodec Create(string name, FeatureEntropyModel? model) => name switch
    {
        "float32" => new Float32Features(),
        "int8" => new Int8Features(),
        "entropy" => new EntropyFeatures(model ?? throw new ArgumentException("the entropy feature codec needs a feature entropy model")),
        _ => throw new ArgumentException($"unknown feature codec '{name}' (float32, int8, entropy)"),
    };

    /// <summary>
    /// Decodes on the receiver. Entropy-coded features need the sender's frozen tables of the named version;
    /// a missing or different version is an error (the tables message must come first).
    /// </summary>
    public static Tensor Decode(EncodedTensor e, Func<ulong, FrozenFeatureTables?> tables, string what)
    {
        var shape = e.Shape.ToArray();
        var n = shape.Aggregate(1L, (a, b) => a * b);
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
        var e = Make(Kind, f);
        e.Data = TensorWire.FloatBytes(f);
        return new EncodedFeatures(f, null, e);
    }
}

/// <summary>Per-tensor uniform int8 quantization, scale max|f|/127; straight-through on the sender's graph.</summary>
public sealed class Int8Features : FeatureCodec
{
    public override TensorCodec Kind => TensorCodec.Int8;
    public override EncodedFeatures Encode(Tensor f, bool training)
    {
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
        return new EncodedFeatures(f + (fHat - f).detach(), null, e);
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
        var c = Model.Channels;
        var gain = Model.gain();
        var scaled = f * gain;
        Tensor? bits = null;
        if (training)
        {
            var (_, lik) = Model.entropy_bottleneck.forward(scaled, training: true);
            bits = lik.log2().sum().neg();
        }
        var med = torch.from_array(t.Medians, 1, c, 1, 1).to(f.device);
        var q = ops.round_ste(scaled - med) + med;
        var fHat = q / gain;
        var symbols = EntropyModel.symbols(scaled.detach(), med);
        var shape = f.shape;
        var e = Make(Kind, f);
        e.TableVersion = t.Version;
        e.Gain.AddRange(gain.detach().cpu().reshape(c).data<float>());
        foreach (var s in EntropyModel.EncodeBatch(symbols, EntropyBottleneck.build_indexes(shape), (int)shape[0], t.Table))
            e.Strings.Add(ByteString.CopyFrom(s));
        return new EncodedFeatures(fHat, bits, e);
    }
}
