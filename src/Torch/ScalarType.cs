namespace CoFUsfl.Torch;

/// <summary>Element types, numbered as libtorch's c10::ScalarType.</summary>
public enum ScalarType
{
    UInt8 = 0, Int8 = 1, Int16 = 2, Int32 = 3, Int64 = 4, Float16 = 5, Float32 = 6, Float64 = 7, Bool = 11, BFloat16 = 15,
}

/// <summary>Element sizes and names of <see cref="ScalarType"/>.</summary>
public static class ScalarTypes
{
    public static int ElementSize(this ScalarType t) => t switch
    {
        ScalarType.UInt8 or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown scalar type"),
    };

    /// <summary>The safetensors dtype name ("F32", "I64", …).</summary>
    public static string SafetensorsName(this ScalarType t) => t switch
    {
        ScalarType.UInt8 => "U8", ScalarType.Int8 => "I8", ScalarType.Int16 => "I16", ScalarType.Int32 => "I32",
        ScalarType.Int64 => "I64", ScalarType.Float16 => "F16", ScalarType.Float32 => "F32", ScalarType.Float64 => "F64",
        ScalarType.Bool => "BOOL", ScalarType.BFloat16 => "BF16",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown scalar type"),
    };

    public static ScalarType FromSafetensorsName(string name) => name switch
    {
        "U8" => ScalarType.UInt8, "I8" => ScalarType.Int8, "I16" => ScalarType.Int16, "I32" => ScalarType.Int32,
        "I64" => ScalarType.Int64, "F16" => ScalarType.Float16, "F32" => ScalarType.Float32, "F64" => ScalarType.Float64,
        "BOOL" => ScalarType.Bool, "BF16" => ScalarType.BFloat16,
        _ => throw new FormatException($"unsupported safetensors dtype '{name}'"),
    };
}

/// <summary>A CPU or CUDA device, written like PyTorch ("cpu", "cuda", "cuda:1").</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    public static readonly Device CPU = new(DeviceType.CPU);
    public static readonly Device CUDA = new(DeviceType.CUDA);

    public static Device Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return CPU;
        if (t == "cuda") return CUDA;
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out var i) && i >= 0) return new(DeviceType.CUDA, i);
        throw new FormatException($"unknown device '{text}' (expected cpu, cuda or cuda:N)");
    }

    public override string ToString() => Type == DeviceType.CPU ? "cpu" : Index == 0 ? "cuda" : $"cuda:{Index}";
}

public enum DeviceType { CPU = 0, CUDA = 1 }
