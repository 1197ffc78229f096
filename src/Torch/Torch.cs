using System.Runtime.InteropServices;
using CoFUsfl.Torch.Native;
using static CoFUsfl.Torch.Native.NativeMethods;

namespace CoFUsfl.Torch;

#pragma warning disable CS8981, IDE1006

/// <summary>A seeded random stream. One per actor keeps multi-threaded runs deterministic.</summary>
public sealed class Generator : IDisposable
{
    internal readonly GeneratorHandle Handle;
    public ulong Seed { get; }

    public Generator(ulong seed, Device? device = null)
    {
        var d = device ?? Device.CPU;
        Seed = seed;
        Handle = new GeneratorHandle(TorchException.Check(cf_generator_new(seed, (int)d.Type, d.Index)));
    }

    public void Dispose() => Handle.Dispose();
}

/// <summary>Tensor creation and process-wide settings, named as in PyTorch (<c>torch.zeros</c>, …).</summary>
public static class torch
{
    public static string Version => Marshal.PtrToStringUTF8(cf_version()) ?? "?";
    public static string NativeLibraryPath => NativeMethods.LibraryPath;
    public static string ParallelInfo => Marshal.PtrToStringUTF8(cf_parallel_info()) ?? "";

    public static int get_num_threads() => cf_get_num_threads();
    public static void set_num_threads(int n) => TorchException.Check(cf_set_num_threads(n));
    public static void manual_seed(ulong seed) => TorchException.Check(cf_manual_seed(seed));

    public static class cuda
    {
        public static bool is_available() => cf_cuda_is_available() != 0;
        public static int device_count() => cf_cuda_device_count();
        public static void synchronize() => TorchException.Check(cf_cuda_synchronize());
    }

    public static NoGradScope no_grad()
    {
        var previous = cf_is_grad_enabled() != 0;
        cf_set_grad_enabled(0);
        return new NoGradScope(previous);
    }

    public static bool is_grad_enabled() => cf_is_grad_enabled() != 0;

    /// <summary>Opens a <see cref="DisposeScope"/> on this thread.</summary>
    public static DisposeScope NewDisposeScope() => DisposeScope.Open();

    private static unsafe Tensor New(int kind, long[] shape, ScalarType dtype, Device? device, double a = 0, double b = 0, Generator? gen = null)
    {
        var d = device ?? Device.CPU;
        Tensor r;
        fixed (long* p = shape) r = new(cf_new(kind, p, shape.Length, (int)dtype, (int)d.Type, d.Index, a, b, (gen?.Handle).OrNull()));
        GC.KeepAlive(gen);
        return r;
    }

    public static Tensor empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) => New(0, shape, dtype, device);
    public static Tensor zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) => New(1, shape, dtype, device);
    public static Tensor ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) => New(2, shape, dtype, device);
    public static Tensor full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null) => New(3, shape, dtype, device, value);
    public static Tensor rand(long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) => New(4, shape, dtype, device, gen: generator);
    public static Tensor randn(long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) => New(5, shape, dtype, device, gen: generator);
    public static Tensor uniform(long[] shape, double low, double high, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) => New(6, shape, dtype, device, low, high, generator);
    public static Tensor scalar(double value, ScalarType dtype = ScalarType.Float32, Device? device = null) => New(3, [], dtype, device, value);
    public static Tensor tensor(double value, ScalarType dtype = ScalarType.Float32, Device? device = null) => scalar(value, dtype, device);

    public static Tensor zeros_like(Tensor t) => new(cf_like(0, t.Handle, 0, 0, IntPtr.Zero));
    public static Tensor ones_like(Tensor t) => new(cf_like(1, t.Handle, 0, 0, IntPtr.Zero));
    public static Tensor empty_like(Tensor t) => new(cf_like(2, t.Handle, 0, 0, IntPtr.Zero));
    public static Tensor full_like(Tensor t, double value) => new(cf_like(5, t.Handle, value, 0, IntPtr.Zero));
    /// <summary>U[low, high) noise shaped like <paramref name="t"/> (the training-time quantization proxy).</summary>
    public static Tensor uniform_like(Tensor t, double low, double high, Generator? generator = null)
    {
        var r = new Tensor(cf_like(3, t.Handle, low, high, (generator?.Handle).OrNull()));
        GC.KeepAlive(generator);
        return r;
    }
    public static Tensor randn_like(Tensor t, Generator? generator = null)
    {
        var r = new Tensor(cf_like(4, t.Handle, 0, 0, (generator?.Handle).OrNull()));
        GC.KeepAlive(generator);
        return r;
    }

    public static Tensor arange(double start, double end, double step = 1, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var d = device ?? Device.CPU;
        return new(cf_arange(start, end, step, (int)dtype, (int)d.Type, d.Index));
    }

    public static Tensor arange(long end, ScalarType dtype = ScalarType.Int64) => arange(0, end, 1, dtype);

    /// <summary>A new CPU tensor holding a copy of <paramref name="data"/>.</summary>
    public static unsafe Tensor from_array<T>(ReadOnlySpan<T> data, long[] shape, ScalarType? dtype = null) where T : unmanaged
    {
        var t = dtype ?? DefaultType<T>();
        long expected = 1;
        foreach (var s in shape) expected *= s;
        if (expected != data.Length)
            throw new ArgumentException($"from_array: {data.Length} elements do not fill shape [{string.Join(", ", shape)}] ({expected})");
        fixed (T* p = data)
        fixed (long* sp = shape)
            return new(cf_from_data(p, (long)data.Length * sizeof(T), sp, shape.Length, (int)t));
    }

    public static Tensor from_array<T>(T[] data, params long[] shape) where T : unmanaged => from_array<T>(data.AsSpan(), shape);

    /// <summary>A tensor of <paramref name="dtype"/> from raw little-endian bytes (safetensors, wire payloads).</summary>
    public static unsafe Tensor from_bytes(ReadOnlySpan<byte> bytes, long[] shape, ScalarType dtype)
    {
        fixed (byte* p = bytes)
        fixed (long* sp = shape)
            return new(cf_from_data(p, bytes.Length, sp, shape.Length, (int)dtype));
    }

    private static ScalarType DefaultType<T>() =>
        typeof(T) == typeof(float) ? ScalarType.Float32 :
        typeof(T) == typeof(double) ? ScalarType.Float64 :
        typeof(T) == typeof(long) ? ScalarType.Int64 :
        typeof(T) == typeof(int) ? ScalarType.Int32 :
        typeof(T) == typeof(byte) ? ScalarType.UInt8 :
        typeof(T) == typeof(sbyte) ? ScalarType.Int8 :
        typeof(T) == typeof(short) ? ScalarType.Int16 :
        typeof(T) == typeof(Half) ? ScalarType.Float16 :
        typeof(T) == typeof(bool) ? ScalarType.Bool :
        throw new ArgumentException($"no tensor dtype for {typeof(T).Name}");

    private static unsafe Tensor CatOrStack(IReadOnlyList<Tensor> tensors, long dim, int stack)
    {
        if (tensors.Count == 0) throw new ArgumentException(stack == 1 ? "stack of no tensors" : "cat of no tensors");
        var handles = new IntPtr[tensors.Count];
        var refs = new bool[tensors.Count];
        try
        {
            for (var i = 0; i < handles.Length; i++)
            {
                tensors[i].Handle.DangerousAddRef(ref refs[i]);
                handles[i] = tensors[i].Handle.DangerousGetHandle();
            }
            fixed (IntPtr* p = handles) return new(cf_cat(p, handles.Length, dim, stack));
        }
        finally
        {
            for (var i = 0; i < handles.Length; i++) if (refs[i]) tensors[i].Handle.DangerousRelease();
        }
    }

    public static Tensor cat(IReadOnlyList<Tensor> tensors, long dim = 0) => CatOrStack(tensors, dim, 0);
    public static Tensor stack(IReadOnlyList<Tensor> tensors, long dim = 0) => CatOrStack(tensors, dim, 1);
    public static Tensor where(Tensor condition, Tensor a, Tensor b) => new(cf_where(condition.Handle, a.Handle, b.Handle));
    public static Tensor maximum(Tensor a, Tensor b) => a.maximum(b);
    public static Tensor minimum(Tensor a, Tensor b) => a.minimum(b);
}

/// <summary>Backpropagation entry points.</summary>
public static class autograd
{
    /// <summary>
    /// Backpropagates from several roots at once (PyTorch's <c>torch.autograd.backward</c>): each root with its
    /// external gradient, or null for a scalar root. The split server uses it to join the client's ∂L/∂f̂2 with its own rate terms.
    /// </summary>
    public static unsafe void backward(IReadOnlyList<Tensor> roots, IReadOnlyList<Tensor?>? gradients = null, bool retainGraph = false)
    {
        if (gradients is not null && gradients.Count != roots.Count)
            throw new ArgumentException($"backward: {roots.Count} roots but {gradients.Count} gradients");
        var n = roots.Count;
        var r = new IntPtr[n];
        var g = new IntPtr[n];
        var held = new List<TensorHandle>(2 * n);
        try
        {
            for (var i = 0; i < n; i++)
            {
                r[i] = AddRef(roots[i].Handle, held);
                var gi = gradients?[i];
                g[i] = gi is null ? IntPtr.Zero : AddRef(gi.Handle, held);
            }
            fixed (IntPtr* rp = r)
            fixed (IntPtr* gp = g)
                TorchException.Check(cf_backward(rp, gp, n, retainGraph ? 1 : 0));
        }
        finally
        {
            foreach (var h in held) h.DangerousRelease();
        }
    }

    private static IntPtr AddRef(TensorHandle h, List<TensorHandle> held)
    {
        var ok = false;
        h.DangerousAddRef(ref ok);
        if (ok) held.Add(h);
        return h.DangerousGetHandle();
    }
}
