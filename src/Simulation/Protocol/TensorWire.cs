using System.Runtime.InteropServices;
using CoFUsfl.Torch;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Protocol;

/// <summary>Tensors ⇄ protobuf: parameters as float32 <see cref="NamedTensor"/>s, shapes checked on the way back.</summary>
public static class TensorWire
{
    /// <summary>
    /// Most elements a tensor on the wire may claim (2^28, 1 GiB as float32): a receiver checks a message's claimed shape
    /// against it before allocating anything, so a few hostile bytes cannot make it allocate gigabytes or overflow.
    /// </summary>
    public const long MaxElements = 1L << 28;

    /// <summary>The element count of a claimed shape: every size ≥ 0, the product (without overflow) at most <paramref name="max"/>.</summary>
    public static long ElementCount(IReadOnlyList<long> shape, string what, long max = MaxElements)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new InvalidDataException($"{what}: shape [{string.Join(", ", shape)}] has a negative size");
            if (d != 0 && n > max / d)
                throw new InvalidDataException($"{what}: shape [{string.Join(", ", shape)}] claims more than {max} elements, the most a tensor message may hold");
            n *= d;
        }
        return n;
    }

    public static NamedTensor ToNamed(string name, Tensor t)
    {
        var m = new NamedTensor { Name = name, Data = FloatBytes(t) };
        m.Shape.AddRange(t.shape);
        return m;
    }

    public static ByteString FloatBytes(Tensor t)
    {
        using var f = t.detach().to(ScalarType.Float32, Device.CPU).contiguous();
        return ByteString.CopyFrom(MemoryMarshal.AsBytes(f.AsSpan<float>()));
    }

    /// <summary>A CPU float32 tensor from wire bytes; a size that does not match the shape is an error naming <paramref name="what"/>.</summary>
    public static Tensor FromFloatBytes(ByteString data, IReadOnlyList<long> shape, string what)
    {
        var count = ElementCount(shape, what);
        if (data.Length != count * 4)
            throw new InvalidDataException($"{what}: {data.Length} bytes do not hold a float32 tensor of shape [{string.Join(", ", shape)}]");
        return torch.from_bytes(data.Span, shape.ToArray(), ScalarType.Float32);
    }

    /// <summary>int8 values × scale (the int8 feature and gradient codecs) as a CPU float32 tensor.</summary>
    public static Tensor FromInt8(EncodedTensor e, string what)
    {
        var shape = e.Shape.ToArray();
        var n = ElementCount(shape, what);
        if (e.Data.Length != n) throw new InvalidDataException($"{what}: {e.Data.Length} bytes for {n} int8 values");
        var src = MemoryMarshal.Cast<byte, sbyte>(e.Data.Span);
        var v = new float[n];
        for (var i = 0; i < n; i++) v[i] = src[i] * e.Scale;
        return torch.from_array(v, shape);
    }

    public static Tensor FromNamed(NamedTensor m) => FromFloatBytes(m.Data, m.Shape, $"parameter '{m.Name}'");
}
