using System.Runtime.InteropServices;
using CoFUsfl.Torch;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Protocol;

/// <summary>Tensors ⇄ protobuf: parameters as float32 <see cref="NamedTensor"/>s, shapes checked on the way back.</summary>
public static class TensorWire
{
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
        var count = shape.Aggregate(1L, (a, b) => a * b);
        if (shape.Any(s => s < 0) || data.Length != count * 4)
            throw new InvalidDataException($"{what}: {data.Length} bytes do not hold a float32 tensor of shape [{string.Join(", ", shape)}]");
        return torch.from_bytes(data.Span, shape.ToArray(), ScalarType.Float32);
    }

    /// <summary>int8 values × scale (the int8 feature and gradient codecs) as a CPU float32 tensor.</summary>
    public static Tensor FromInt8(EncodedTensor e, string what)
    {
        var shape = e.Shape.ToArray();
        var n = shape.Aggregate(1L, (a, b) => a * b);
        if (shape.Any(s => s < 0) || e.Data.Length != n) throw new InvalidDataException($"{what}: {e.Data.Length} bytes for {n} int8 values");
        var src = MemoryMarshal.Cast<byte, sbyte>(e.Data.Span);
        var v = new float[n];
        for (var i = 0; i < n; i++) v[i] = src[i] * e.Scale;
        return torch.from_array(v, shape);
    }

    public static Tensor FromNamed(NamedTensor m) => FromFloatBytes(m.Data, m.Shape, $"parameter '{m.Name}'");
}
