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

    public static Tensor FromNamed(NamedTensor m) => FromFloatBytes(m.Data, m.Shape, $"parameter '{m.Name}'");
}
