using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using CoFUsfl.Torch;
using CoFUsfl.Models.Coding;
using CoFUsfl.Simulation.Metrics;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Protocol;

/// <summary>
/// Gradient codecs for transfers [3] and [4]: float32, float16, int8 (stochastic rounding), entropy (per-channel step,
/// stochastic rounding, forward-adaptive rANS), top-k (per message, no residual). No codec carries state from one
/// message to the next: an activation gradient's elements belong to one batch's images, so a residual kept from another
/// batch would not be a valid correction.
/// </summary>
public abstract class GradientCodec
{
    public abstract TensorCodec Kind { get; }

    /// <summary>Encodes a gradient, adding the wall time to <see cref="Profile"/>.</summary>
    public EncodedTensor Encode(Tensor gradient)
    {
        var t = Stopwatch.GetTimestamp();
        var e = EncodeCore(gradient, ref t);
        Profile?.Lap(ProfilePart.GradientEncode, ref t);
        return e;
    }

    /// <summary>
    /// The codec's encoding; a codec that quantizes on the host laps <see cref="ProfilePart.GradientQuantize"/> on
    /// <paramref name="since"/>, the rest counts as <see cref="ProfilePart.GradientEncode"/>.
    /// </summary>
    protected abstract EncodedTensor EncodeCore(Tensor gradient, ref long since);

    /// <summary>Where <see cref="Encode"/> adds its wall time; null: not profiled.</summary>
    public WallProfile? Profile { get; set; }

    /// <summary>What the entropy coder wrote for the last <see cref="Encode"/> (null for codecs without one).</summary>
    public CodingStats? LastStats { get; protected set; }

    /// <summary>Parses a name from configuration: float32 | float16 | int8 | entropy | topk.</summary>
    /// <param name="entropyStep">The entropy codec's quantization step in units of each channel's RMS.</param>
    public static GradientCodec Create(string name, double topkRatio, Random rng, double entropyStep = 1.0) => name switch
    {
        "float32" => new Float32Gradient(),
        "float16" => new Float16Gradient(),
        "int8" => new Int8Gradient(rng),
        "entropy" => new EntropyGradient(entropyStep, rng),
        "topk" => new TopKGradient(topkRatio),
        _ => throw new ArgumentException($"unknown gradient codec '{name}' (float32, float16, int8, entropy, topk)"),
    };

    /// <summary>Decodes any gradient codec's output (the receiver needs no state).</summary>
    public static Tensor Decode(EncodedTensor e, string what)
    {
        var shape = e.Shape.ToArray();
        var n = TensorWire.ElementCount(shape, what);
        switch (e.Codec)
        {
            case TensorCodec.Float32:
                return TensorWire.FromFloatBytes(e.Data, shape, what);
            case TensorCodec.Float16:
                if (e.Data.Length != n * 2) throw new InvalidDataException($"{what}: {e.Data.Length} bytes for {n} float16 values");
                return torch.from_bytes(e.Data.Span, shape, ScalarType.Float16).to(ScalarType.Float32);
            case TensorCodec.Int8:
                return TensorWire.FromInt8(e, what);
            case TensorCodec.Topk:
            {
                var v = new float[n];
                var span = e.Data.Span;
                long index = -1;
                var pos = 0;
                while (pos < span.Length)
                {
                    index += (long)ReadVarint(span, ref pos, what) + 1;
                    if (pos + 4 > span.Length || index >= n) throw new InvalidDataException($"{what}: top-k entry outside the tensor or truncated");
                    v[index] = BinaryPrimitives.ReadSingleLittleEndian(span[pos..]);
                    pos += 4;
                }
                return torch.from_array(v, shape);
            }
            case TensorCodec.Adaptive:
            {
                if (shape.Length < 2 || shape.Any(d => d <= 0) || e.Strings.Count != shape[0])
                    throw new InvalidDataException($"{what}: an entropy-coded gradient needs a shape [B, C, …] of positive sizes and one string per batch element (shape [{string.Join(", ", shape)}], {e.Strings.Count} strings)");
                var c = shape[1];
                if (e.Step.Count != c) throw new InvalidDataException($"{what}: {e.Step.Count} quantization steps for {c} channels");
                for (var i = 0; i < c; i++)
                    if (!float.IsFinite(e.Step[i]) || e.Step[i] <= 0) throw new InvalidDataException($"{what}: quantization step {e.Step[i]} of channel {i} is not finite and positive");
                if (n > Array.MaxLength) throw new InvalidDataException($"{what}: {n} gradient values are too many");
                // Pooled buffers: a message's symbols and values are megabytes, and fresh arrays of that size are
                // large-object allocations that bring on full collections.
                var q = ArrayPool<int>.Shared.Rent((int)n);
                var v = ArrayPool<float>.Shared.Rent((int)n);
                try
                {
                    try { AdaptiveCoder.Decode(e.Tables.Span, e.Strings.Select(x => x.Memory).ToList(), (int)c, checked((int)(n / (shape[0] * c))), q.AsMemory(0, (int)n)); }
                    catch (Exception ex) when (ex is InvalidDataException or OverflowException)
                    {
                        throw new InvalidDataException($"{what}: {ex.Message}", ex);
                    }
                    var per = (int)(n / (shape[0] * c));
                    var steps = e.Step.ToArray();
                    var k = 0;
                    for (var b = 0; b < shape[0]; b++)
                        foreach (var d in steps)
                            for (var end = k + per; k < end; k++) v[k] = q[k] * d;
                    return torch.from_array<float>(v.AsSpan(0, (int)n), shape);
                }
                finally
                {
                    ArrayPool<int>.Shared.Return(q);
                    ArrayPool<float>.Shared.Return(v);
                }
            }
            default:
                throw new InvalidDataException($"{what}: codec {e.Codec} is not a gradient codec");
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> s, ref int pos, string what)
    {
        ulong v = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= s.Length) throw new InvalidDataException($"{what}: truncated varint");
            var b = s[pos++];
            v |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return v;
        }
        throw new InvalidDataException($"{what}: varint too long");
    }

    protected static EncodedTensor Make(TensorCodec codec, Tensor shapeOf, ByteString data, float scale = 0)
    {
        var e = new EncodedTensor { Codec = codec, Data = data, Scale = scale };
        e.Shape.AddRange(shapeOf.shape);
        return e;
    }
}

public sealed class Float32Gradient : GradientCodec
{
    public override TensorCodec Kind => TensorCodec.Float32;
    protected override EncodedTensor EncodeCore(Tensor g, ref long since) => Make(Kind, g, TensorWire.FloatBytes(g));
}

public sealed class Float16Gradient : GradientCodec
{
    public override TensorCodec Kind => TensorCodec.Float16;
    protected override EncodedTensor EncodeCore(Tensor g, ref long since)
    {
        using var h = g.detach().to(ScalarType.Float16, Device.CPU).contiguous();
        return Make(Kind, g, ByteString.CopyFrom(MemoryMarshal.AsBytes(h.AsSpan<Half>())));
    }
}

/// <summary>int8 with a per-tensor scale max|g|/127 and stochastic rounding (unbiased in expectation).</summary>
public sealed class Int8Gradient(Random rng) : GradientCodec
{
    public override TensorCodec Kind => TensorCodec.Int8;
    protected override EncodedTensor EncodeCore(Tensor g, ref long since)
    {
        var v = g.detach().cpu().contiguous().data<float>();
        var max = 0f;
        foreach (var x in v) max = Math.Max(max, Math.Abs(x));
        var scale = max > 0 ? max / 127f : 1f;
        var q = new sbyte[v.Length];
        for (var i = 0; i < v.Length; i++)
        {
            var r = Math.Floor(v[i] / scale + rng.NextDouble());
            q[i] = (sbyte)Math.Clamp(r, -127, 127);
        }
        return Make(Kind, g, ByteString.CopyFrom(MemoryMarshal.AsBytes(q.AsSpan())), scale);
    }
}

/// <summary>
/// Top-k by magnitude, per message: the k largest entries (index deltas as varints, float32 values), the rest zero.
/// No error feedback: the entries not sent belong to this batch's images, and adding them to a later batch's gradient
/// would correct the wrong images.
/// </summary>
public sealed class TopKGradient(double ratio) : GradientCodec
{
    public double Ratio { get; } = ratio is > 0 and <= 1 ? ratio : throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "top-k ratio must be in (0, 1]");
    public override TensorCodec Kind => TensorCodec.Topk;

    protected override EncodedTensor EncodeCore(Tensor g, ref long since)
    {
        var v = g.detach().cpu().contiguous().data<float>();
        var k = Math.Max(1, (int)Math.Ceiling(Ratio * v.Length));
        var order = Enumerable.Range(0, v.Length).OrderByDescending(i => Math.Abs(v[i])).ThenBy(i => i).Take(k).Order().ToArray();
        var buf = new byte[k * 9];
        var pos = 0;
        long prev = -1;
        foreach (var i in order)
        {
            var delta = (ulong)(i - prev - 1);
            while (delta >= 0x80) { buf[pos++] = (byte)(delta | 0x80); delta >>= 7; }
            buf[pos++] = (byte)delta;
            BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(pos), v[i]);
            pos += 4;
            prev = i;
        }
        return Make(Kind, g, ByteString.CopyFrom(buf, 0, pos));
    }
}

/// <summary>
/// Entropy-coded gradients: per channel c a step Δ_c = step · RMS_c (the channel's standard deviation about zero, sent
/// as side information), stochastic rounding q = ⌊g/Δ_c + U[0,1)⌋ (so E[q·Δ_c] = g: unbiased), and the integers coded
/// by <see cref="AdaptiveCoder"/> under per-channel tables of their own histogram.
/// </summary>
public sealed class EntropyGradient(double step, Random rng) : GradientCodec
{
    public double Step { get; } = step > 0 && double.IsFinite(step) ? step : throw new ArgumentOutOfRangeException(nameof(step), step, "the gradient quantization step must be finite and positive");
    public override TensorCodec Kind => TensorCodec.Adaptive;

    protected override EncodedTensor EncodeCore(Tensor g, ref long since)
    {
        var shape = g.shape;
        if (shape.Length < 2) throw new ArgumentException($"entropy gradient codec: a gradient of shape [{string.Join(", ", shape)}] has no channel dimension");
        // Read in place (no host copy on a CPU device), symbols in a pooled buffer: see Decode.
        using var host = g.detach().to(ScalarType.Float32, Device.CPU).contiguous();
        var v = host.AsSpan<float>();
        int batch = (int)shape[0], c = (int)shape[1];
        var per = v.Length / Math.Max(1, batch * c);
        var steps = new float[c];
        for (var ch = 0; ch < c; ch++)
        {
            double sq = 0;
            for (var b = 0; b < batch; b++)
                foreach (var x in v.Slice((b * c + ch) * per, per)) sq += (double)x * x;
            if (!double.IsFinite(sq)) throw new ArithmeticException($"entropy gradient codec: channel {ch} of the gradient is not finite (NaN or infinite): the model has diverged");
            var rms = Math.Sqrt(sq / Math.Max(1, batch * per));
            steps[ch] = rms > 0 ? (float)(Step * rms) : 1f;
            if (!float.IsFinite(steps[ch]) || steps[ch] <= 0) steps[ch] = float.Epsilon;
        }
        var q = ArrayPool<int>.Shared.Rent(v.Length);
        // Element i belongs to channel i / per % c; the draws stay in element order (one per element, as always).
        var i = 0;
        for (var b = 0; b < batch; b++)
            foreach (var step in steps)
            {
                var d = (double)step;
                for (var end = i + per; i < end; i++)
                    q[i] = (int)Math.Clamp(Math.Floor(v[i] / d + rng.NextDouble()), -(1 << 26), 1 << 26);
            }
        Profile?.Lap(ProfilePart.GradientQuantize, ref since);
        AdaptiveCode code;
        try { code = AdaptiveCoder.Encode(q.AsMemory(0, v.Length), batch, c); }
        finally { ArrayPool<int>.Shared.Return(q); }
        LastStats = code.Stats;
        var e = Make(Kind, g, ByteString.Empty);
        e.Step.AddRange(steps);
        // The coder's arrays are fresh and never written again: wrapped, not copied.
        e.Tables = UnsafeByteOperations.UnsafeWrap(code.Tables);
        foreach (var s in code.Strings) e.Strings.Add(UnsafeByteOperations.UnsafeWrap(s));
        return e;
    }
}
