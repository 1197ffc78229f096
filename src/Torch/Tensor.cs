using System.Runtime.InteropServices;
using CoFUsfl.Torch.Native;
using static CoFUsfl.Torch.Native.NativeMethods;

namespace CoFUsfl.Torch;

#pragma warning disable CS8981, IDE1006 // PyTorch's lower-case vocabulary on purpose.

/// <summary>
/// A libtorch tensor. Owns one native handle: dispose it, or create it inside a
/// <see cref="DisposeScope"/> that frees every temporary of a training step at once.
/// Method names follow PyTorch so code reads across from papers and CompressAI.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    internal readonly TensorHandle Handle;
    internal DisposeScope? Owner;

    internal Tensor(IntPtr handle)
    {
        Handle = new TensorHandle(TorchException.Check(handle));
        DisposeScope.Register(this);
    }

    /// <summary>Frees the native tensor now (idempotent).</summary>
    public void Dispose() => Handle.Dispose();

    public bool IsDisposed => Handle.IsClosed;

    // ---- metadata
    public int dim() => cf_dim(Handle);
    public long numel() => cf_numel(Handle);
    public ScalarType dtype => (ScalarType)cf_dtype(Handle);
    public Device device => new((DeviceType)cf_device_type(Handle), cf_device_index(Handle));
    public bool requires_grad
    {
        get => cf_requires_grad(Handle) != 0;
        set => TorchException.Check(cf_set_requires_grad(Handle, value ? 1 : 0));
    }
    public bool is_leaf => cf_is_leaf(Handle) != 0;

    public unsafe long[] shape
    {
        get
        {
            var n = cf_dim(Handle);
            var s = new long[n];
            fixed (long* p = s) cf_shape(Handle, p);
            return s;
        }
    }

    public long size(int d)
    {
        var s = shape;
        return s[d < 0 ? d + s.Length : d];
    }

    public string ShapeString => "[" + string.Join(", ", shape) + "]";

    public override string ToString() => IsDisposed ? "Tensor(disposed)" : $"Tensor({ShapeString}, {dtype}, {device})";

    /// <summary>libtorch's own printout of the values.</summary>
    public string ToStringWithValues() => Marshal.PtrToStringUTF8(cf_to_string(Handle)) ?? "";

    // ---- data
    public double item()
    {
        TorchException.Check(cf_item(Handle, out var v));
        return v;
    }

    public float itemf() => (float)item();

    /// <summary>Copies the elements (from any device, made contiguous) into a new managed array.</summary>
    public unsafe T[] data<T>() where T : unmanaged
    {
        var n = numel();
        CheckElementType<T>("data");
        var a = new T[n];
        fixed (T* p = a) TorchException.Check(cf_copy_to(Handle, p, n * sizeof(T)));
        return a;
    }

    /// <summary>Copies the elements into <paramref name="destination"/>, whose byte length must equal the tensor's.</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        fixed (T* p = destination) TorchException.Check(cf_copy_to(Handle, p, (long)destination.Length * sizeof(T)));
    }

    /// <summary>Zero-copy view of a contiguous CPU tensor's data; valid while the tensor lives.</summary>
    public unsafe ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        var p = cf_data_ptr(Handle);
        if (p == IntPtr.Zero) throw new InvalidOperationException("AsSpan needs a contiguous CPU tensor; call contiguous()/cpu() first");
        CheckElementType<T>("AsSpan");
        return new ReadOnlySpan<T>((void*)p, checked((int)numel()));
    }

    /// <summary>
    /// T must be the tensor's element type (float for Float32, long for Int64, …; byte also reads Bool):
    /// a same-sized but different type (long on a Float64 tensor) would silently reinterpret the bits.
    /// Types with no tensor counterpart (ushort for BFloat16, user structs) are checked by size only.
    /// </summary>
    private unsafe void CheckElementType<T>(string what) where T : unmanaged
    {
        var t = dtype;
        ScalarType[]? allowed =
            typeof(T) == typeof(float) ? [ScalarType.Float32] :
            typeof(T) == typeof(double) ? [ScalarType.Float64] :
            typeof(T) == typeof(long) ? [ScalarType.Int64] :
            typeof(T) == typeof(int) ? [ScalarType.Int32] :
            typeof(T) == typeof(short) ? [ScalarType.Int16] :
            typeof(T) == typeof(sbyte) ? [ScalarType.Int8] :
            typeof(T) == typeof(byte) ? [ScalarType.UInt8, ScalarType.Bool] :
            typeof(T) == typeof(bool) ? [ScalarType.Bool] :
            typeof(T) == typeof(Half) ? [ScalarType.Float16] :
            null;
        if (allowed is not null ? Array.IndexOf(allowed, t) < 0 : sizeof(T) != t.ElementSize())
            throw new InvalidOperationException($"{what}<{typeof(T).Name}>() on a {t} tensor: element types differ (convert with to(ScalarType) first)");
    }

    // ---- scope
    /// <summary>Moves this tensor to the scope around the current one (or out of all scopes), so it outlives the step.</summary>
    public Tensor MoveToOuterDisposeScope()
    {
        DisposeScope.MoveToOuter(this);
        return this;
    }

    /// <summary>Removes this tensor from any dispose scope: the caller now owns it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        Owner = null;
        return this;
    }

    // ---- conversion
    public Tensor to(ScalarType type) => new(cf_to(Handle, (int)type, cf_device_type(Handle), cf_device_index(Handle), 0));
    public Tensor to(Device d) => new(cf_to(Handle, cf_dtype(Handle), (int)d.Type, d.Index, 0));
    public Tensor to(ScalarType type, Device d) => new(cf_to(Handle, (int)type, (int)d.Type, d.Index, 0));
    public Tensor cpu() => to(Device.CPU);
    public Tensor @float() => to(ScalarType.Float32);
    public Tensor @double() => to(ScalarType.Float64);
    public Tensor @long() => to(ScalarType.Int64);

    public bool equal(Tensor other)
    {
        TorchException.Check(cf_equal(Handle, other.Handle, out var e));
        return e != 0;
    }

    // ---- autograd
    public Tensor requires_grad_(bool on = true)
    {
        requires_grad = on;
        return this;
    }

    /// <summary>The accumulated gradient, or null when none was computed. The returned tensor is a new handle to it.</summary>
    public Tensor? grad
    {
        get
        {
            TorchException.Check(cf_grad(Handle, out var g));
            return g == IntPtr.Zero ? null : new Tensor(g);
        }
        set
        {
            TorchException.Check(cf_set_grad(Handle, (value?.Handle).OrNull()));
            GC.KeepAlive(value);
        }
    }

    public void retain_grad() => TorchException.Check(cf_retain_grad(Handle));

    /// <summary>Backpropagates from this tensor; <paramref name="gradient"/> is required for non-scalars (the split protocol's external gradient).</summary>
    public void backward(Tensor? gradient = null, bool retainGraph = false) =>
        autograd.backward([this], gradient is null ? null : [gradient], retainGraph);

    public Tensor detach() => Unary(UnaryOp.Detach);
    public Tensor clone() => Unary(UnaryOp.Clone);
    public Tensor contiguous() => Unary(UnaryOp.Contiguous);

    // ---- in place (no autograd; for optimizers and averaging)
    public Tensor add_(Tensor other, double alpha = 1) { InPlace(0, other, alpha); return this; }
    public Tensor mul_(Tensor other) { InPlace(1, other, 0); return this; }
    public Tensor copy_(Tensor other) { InPlace(2, other, 0); return this; }
    public Tensor zero_() { InPlace(3, null, 0); return this; }
    public Tensor fill_(double value) { InPlace(4, null, value); return this; }
    public Tensor mul_(double value) { InPlace(5, null, value); return this; }
    public Tensor add_(double value) { InPlace(6, null, value); return this; }

    private void InPlace(int op, Tensor? other, double alpha)
    {
        TorchException.Check(cf_inplace(op, Handle, (other?.Handle).OrNull(), alpha));
        GC.KeepAlive(other);
    }
}

public sealed partial class Tensor
{
    /// <summary>Replaces this tensor's data (device, dtype, values) in place, keeping its identity: what Module.to(device) needs.</summary>
    public void set_data(Tensor source) => TorchException.Check(NativeMethods.cf_set_data(Handle, source.Handle));
}
