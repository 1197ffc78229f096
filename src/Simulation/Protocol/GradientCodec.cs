using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CoFUsfl.Torch;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Protocol;

/// <summary>Gradient codecs for transfers [3] and [4]: float32, float16, int8 (stochastic rounding), top-k with error feedback.</summary>
public abstract class GradientCodec
{
    public abstract TensorCodec Kind { get; }
    public abstract EncodedTensor Encode(Tensor gradient);

    /// <summary>Parses a name from configuration: float32 | float16 | int8 | topk.</summary>
    public static GradientCodec Create(string name, double topkRatio, Random rng) => name switch
    {
        "float32" => new Float32Gradient(),
        "float16" => new Float16Gradient(),
        "int8" => new Int8Gradient(rng),
        "topk" => new TopKGradient(topkRatio),
        _ => throw new ArgumentException($"unknown gradient codec '{name}' (float32, float16, int8, topk)"),
    };

    /// <summary>Decodes any gradient codec's output (the receiver needs no state).</summary>
    public static Tensor Decode(EncodedTensor e, string what)
    {
        var shape = e.Shape.ToArray();
        var n = shape.Aggregate(1L, (a, b) => a * b);
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
    public override EncodedTensor Encode(Tensor g) => Make(Kind, g, TensorWire.FloatBytes(g));
}

public sealed class Float16Gradient : GradientCodec
{
    public override TensorCodec Kind => TensorCodec.Float16;
    public override EncodedTensor Encode(Tensor g)
    {
        using var h = g.detach().to(ScalarType.Float16, Device.CPU).contiguous();
        return Make(Kind, g, ByteString.CopyFrom(MemoryMarshal.AsBytes(h.AsSpan<Half>())));
    }
}

/// <summary>int8 with a per-tensor scale max|g|/127 and stochastic rounding (unbiased in expectation).</summary>
public sealed class Int8Gradient(Random rng) : GradientCodec
{
    public override TensorCodec Kind => TensorCodec.Int8;
    public override EncodedTensor Encode(Tensor g)
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

/// <summary>Top-k by magnitude with error feedback: what is not sent accumulates and is added to the next gradient.</summary>
public sealed class TopKGradient(double ratio) : GradientCodec
{
    private float[]? residual;
    public double Ratio { get; } = ratio is > 0 and <= 1 ? ratio : throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "top-k ratio must be in (0, 1]");
    public override TensorCodec Kind => TensorCodec.Topk;

    public override EncodedTensor Encode(Tensor g)
    {
        var v = g.detach().cpu().contiguous().data<float>();
        if (residual is null || residual.Length != v.Length) residual = new float[v.Length];
        for (var i = 0; i < v.Length; i++) v[i] += residual[i];
        var k = Math.Max(1, (int)Math.Ceiling(Ratio * v.Length));
        var order = Enumerable.Range(0, v.Length).OrderByDescending(i => Math.Abs(v[i])).ThenBy(i => i).Take(k).Order().ToArray();
        var buf = new byte[k * 9];
        var pos = 0;
        long prev = -1;
        Array.Copy(v, residual, v.Length);
        foreach (var i in order)
        {
            var delta = (ulong)(i - prev - 1);
            while (delta >= 0x80) { buf[pos++] = (byte)(delta | 0x80); delta >>= 7; }
            buf[pos++] = (byte)delta;
            BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(pos), v[i]);
            pos += 4;
            residual[i] = 0;
            prev = i;
        }
        return Make(Kind, g, ByteString.CopyFrom(buf, 0, pos));
    }
}
