using System.Reflection;
using System.Runtime.InteropServices;

namespace CoFUsfl.Torch.Native;

/// <summary>P/Invoke declarations of the C ABI shim in native/ (libcofusfl_native.so).</summary>
internal static partial class NativeMethods
{
    internal const string Lib = "cofusfl_native";

    /// <summary>Installs the resolver when the assembly loads, before any P/Invoke can run.</summary>
#pragma warning disable CA2255 // a library that must install its native resolver before any P/Invoke
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Install() => NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);
#pragma warning restore CA2255

    internal static string LibraryPath { get; private set; } = "";

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib) return IntPtr.Zero;
        foreach (var candidate in Candidates())
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var h))
            {
                LibraryPath = candidate;
                return h;
            }
        }
        throw new DllNotFoundException(
            "libcofusfl_native.so not found. Build it with ./cofusfl (or cmake -S native -B native/build && cmake --build native/build), " +
            "or point COFUSFL_NATIVE_LIB at it. Looked in: " + string.Join(", ", Candidates()));
    }

    private static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("COFUSFL_NATIVE_LIB");
        if (!string.IsNullOrEmpty(env)) yield return env;
        yield return Path.Combine(AppContext.BaseDirectory, "libcofusfl_native.so");
        // Walk up from the assembly to the repository root (development and test runs).
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "native", "build", "libcofusfl_native.so");
            if (File.Exists(Path.Combine(dir.FullName, "CoFUsfl.sln"))) { yield return p; yield break; }
        }
    }

    [DllImport(Lib)] internal static extern IntPtr cf_last_error();
    [DllImport(Lib)] internal static extern void cf_free(IntPtr t);
    [DllImport(Lib)] internal static extern IntPtr cf_version();
    [DllImport(Lib)] internal static extern int cf_get_num_threads();
    [DllImport(Lib)] internal static extern int cf_set_num_threads(int n);
    [DllImport(Lib)] internal static extern int cf_manual_seed(ulong seed);
    [DllImport(Lib)] internal static extern IntPtr cf_parallel_info();
    [DllImport(Lib)] internal static extern IntPtr cf_generator_new(ulong seed, int devType, int devIndex);
    [DllImport(Lib)] internal static extern void cf_generator_free(IntPtr g);

    [DllImport(Lib, EntryPoint = "cf_new")] private static extern unsafe IntPtr cf_new_raw(int kind, long* shape, int ndim, int dtype, int devType, int devIndex, double a, double b, GeneratorHandle gen);
    // A null SafeHandle cannot be marshalled (ArgumentNullException): optional handles go through the Null sentinel.
    internal static unsafe IntPtr cf_new(int kind, long* shape, int ndim, int dtype, int devType, int devIndex, double a, double b, GeneratorHandle? gen) => cf_new_raw(kind, shape, ndim, dtype, devType, devIndex, a, b, gen ?? GeneratorHandle.Null);
    [DllImport(Lib, EntryPoint = "cf_like")] private static extern IntPtr cf_like_raw(int kind, TensorHandle t, double a, double b, GeneratorHandle gen);
    // A null SafeHandle cannot be marshalled (ArgumentNullException): optional handles go through the Null sentinel.
    internal static IntPtr cf_like(int kind, TensorHandle t, double a, double b, GeneratorHandle? gen) => cf_like_raw(kind, t, a, b, gen ?? GeneratorHandle.Null);
    [DllImport(Lib)] internal static extern IntPtr cf_arange(double start, double end, double step, int dtype, int devType, int devIndex);
    [DllImport(Lib)] internal static extern unsafe IntPtr cf_from_data(void* data, long nbytes, long* shape, int ndim, int dtype);
    [DllImport(Lib)] internal static extern unsafe int cf_copy_to(TensorHandle t, void* dst, long nbytes);
    [DllImport(Lib)] internal static extern IntPtr cf_data_ptr(TensorHandle t);

    [DllImport(Lib)] internal static extern int cf_dim(TensorHandle t);
    [DllImport(Lib)] internal static extern unsafe int cf_shape(TensorHandle t, long* shape);
    [DllImport(Lib)] internal static extern int cf_dtype(TensorHandle t);
    [DllImport(Lib)] internal static extern int cf_device_type(TensorHandle t);
    [DllImport(Lib)] internal static extern int cf_device_index(TensorHandle t);
    [DllImport(Lib)] internal static extern long cf_numel(TensorHandle t);
    [DllImport(Lib)] internal static extern int cf_requires_grad(TensorHandle t);
    [DllImport(Lib)] internal static extern int cf_is_leaf(TensorHandle t);
    [DllImport(Lib)] internal static extern int cf_item(TensorHandle t, out double value);
    [DllImport(Lib)] internal static extern int cf_equal(TensorHandle a, TensorHandle b, out int equal);
    [DllImport(Lib)] internal static extern IntPtr cf_to_string(TensorHandle t);
    [DllImport(Lib)] internal static extern IntPtr cf_to(TensorHandle t, int dtype, int devType, int devIndex, int copy);

    [DllImport(Lib)] internal static extern IntPtr cf_unary(int op, TensorHandle a);
    [DllImport(Lib)] internal static extern IntPtr cf_binary(int op, TensorHandle a, TensorHandle b);
    [DllImport(Lib)] internal static extern IntPtr cf_binary_scalar(int op, TensorHandle a, double s, int reverse);
    [DllImport(Lib)] internal static extern IntPtr cf_clamp(TensorHandle a, double lo, double hi, int hasLo, int hasHi);
    [DllImport(Lib)] internal static extern IntPtr cf_where(TensorHandle cond, TensorHandle a, TensorHandle b);
    [DllImport(Lib)] internal static extern unsafe IntPtr cf_reduce(int op, TensorHandle a, long* dims, int ndims, int keepdim);
    [DllImport(Lib)] internal static extern IntPtr cf_cumsum(TensorHandle a, long dim);

    [DllImport(Lib)] internal static extern unsafe IntPtr cf_reshape(TensorHandle a, long* shape, int n);
    [DllImport(Lib)] internal static extern unsafe IntPtr cf_view(TensorHandle a, long* shape, int n);
    [DllImport(Lib)] internal static extern unsafe IntPtr cf_expand(TensorHandle a, long* shape, int n);
    [DllImport(Lib)] internal static extern unsafe IntPtr cf_repeat(TensorHandle a, long* shape, int n);
    [DllImport(Lib)] internal static extern unsafe IntPtr cf_permute(TensorHandle a, long* dims, int n);
    [DllImport(Lib)] internal static extern IntPtr cf_transpose(TensorHandle a, long d0, long d1);
    [DllImport(Lib)] internal static extern IntPtr cf_narrow(TensorHandle a, long dim, long start, long length);
    [DllImport(Lib)] internal static extern IntPtr cf_slice(TensorHandle a, long dim, long start, long end, long step);
    [DllImport(Lib)] internal static extern IntPtr cf_select(TensorHandle a, long dim, long index);
    [DllImport(Lib)] internal static extern IntPtr cf_unsqueeze(TensorHandle a, long dim);
    [DllImport(Lib)] internal static extern IntPtr cf_squeeze(TensorHandle a, long dim, int all);
    [DllImport(Lib)] internal static extern IntPtr cf_flatten(TensorHandle a, long start, long end);
    [DllImport(Lib)] internal static extern unsafe IntPtr cf_cat(IntPtr* tensors, int n, long dim, int stack);
    [DllImport(Lib)] internal static extern unsafe IntPtr cf_pad(TensorHandle a, long* pads, int n, int mode, double value);
    [DllImport(Lib)] internal static extern IntPtr cf_index_select(TensorHandle a, long dim, TensorHandle index);
    [DllImport(Lib)] internal static extern IntPtr cf_gather(TensorHandle a, long dim, TensorHandle index);
    [DllImport(Lib)] internal static extern IntPtr cf_masked_select(TensorHandle a, TensorHandle mask);
    [DllImport(Lib)] internal static extern int cf_topk(TensorHandle a, long k, long dim, int largest, out IntPtr values, out IntPtr indices);
    [DllImport(Lib)] internal static extern IntPtr cf_scatter(TensorHandle a, long dim, TensorHandle index, TensorHandle src);
    [DllImport(Lib, EntryPoint = "cf_inplace")] private static extern int cf_inplace_raw(int op, TensorHandle a, TensorHandle b, double alpha);
    // A null SafeHandle cannot be marshalled (ArgumentNullException): optional handles go through the Null sentinel.
    internal static int cf_inplace(int op, TensorHandle a, TensorHandle? b, double alpha) => cf_inplace_raw(op, a, b ?? TensorHandle.Null, alpha);

    [DllImport(Lib, EntryPoint = "cf_conv2d")] private static extern unsafe IntPtr cf_conv2d_raw(TensorHandle x, TensorHandle w, TensorHandle b, long* stride, long* padding, long* dilation, long groups);
    // A null SafeHandle cannot be marshalled (ArgumentNullException): optional handles go through the Null sentinel.
    internal static unsafe IntPtr cf_conv2d(TensorHandle x, TensorHandle w, TensorHandle? b, long* stride, long* padding, long* dilation, long groups) => cf_conv2d_raw(x, w, b ?? TensorHandle.Null, stride, padding, dilation, groups);
    [DllImport(Lib, EntryPoint = "cf_conv_transpose2d")] private static extern unsafe IntPtr cf_conv_transpose2d_raw(TensorHandle x, TensorHandle w, TensorHandle b, long* stride, long* padding, long* outputPadding, long groups, long* dilation);
    // A null SafeHandle cannot be marshalled (ArgumentNullException): optional handles go through the Null sentinel.
    internal static unsafe IntPtr cf_conv_transpose2d(TensorHandle x, TensorHandle w, TensorHandle? b, long* stride, long* padding, long* outputPadding, long groups, long* dilation) => cf_conv_transpose2d_raw(x, w, b ?? TensorHandle.Null, stride, padding, outputPadding, groups, dilation);
    [DllImport(Lib, EntryPoint = "cf_linear")] private static extern IntPtr cf_linear_raw(TensorHandle x, TensorHandle w, TensorHandle b);
    // A null SafeHandle cannot be marshalled (ArgumentNullException): optional handles go through the Null sentinel.
    internal static IntPtr cf_linear(TensorHandle x, TensorHandle w, TensorHandle? b) => cf_linear_raw(x, w, b ?? TensorHandle.Null);
    [DllImport(Lib)] internal static extern IntPtr cf_pixel_shuffle(TensorHandle x, long r, int inverse);
    [DllImport(Lib)] internal static extern IntPtr cf_interpolate(TensorHandle x, long h, long w, double sh, double sw, int mode);
    [DllImport(Lib)] internal static extern IntPtr cf_pool2d(int kind, TensorHandle x, long kh, long kw, long sh, long sw, long ph, long pw);
    [DllImport(Lib)] internal static extern IntPtr cf_mse_loss(TensorHandle a, TensorHandle b, int reduction);
    [DllImport(Lib)] internal static extern IntPtr cf_cross_entropy(TensorHandle logits, TensorHandle target, int reduction);
    [DllImport(Lib)] internal static extern IntPtr cf_log_softmax(TensorHandle x, long dim);
    [DllImport(Lib)] internal static extern IntPtr cf_softmax(TensorHandle x, long dim);
    [DllImport(Lib)] internal static extern IntPtr cf_lower_bound(TensorHandle x, double bound);
    [DllImport(Lib)] internal static extern IntPtr cf_round_ste(TensorHandle x);

    [DllImport(Lib)] internal static extern int cf_set_requires_grad(TensorHandle t, int on);
    [DllImport(Lib)] internal static extern int cf_retain_grad(TensorHandle t);
    [DllImport(Lib)] internal static extern int cf_is_grad_enabled();
    [DllImport(Lib)] internal static extern void cf_set_grad_enabled(int on);
    [DllImport(Lib)] internal static extern unsafe int cf_backward(IntPtr* roots, IntPtr* grads, int n, int retainGraph);
    [DllImport(Lib)] internal static extern int cf_grad(TensorHandle t, out IntPtr grad);
    [DllImport(Lib, EntryPoint = "cf_set_grad")] private static extern int cf_set_grad_raw(TensorHandle t, TensorHandle g);
    // A null SafeHandle cannot be marshalled (ArgumentNullException): optional handles go through the Null sentinel.
    internal static int cf_set_grad(TensorHandle t, TensorHandle? g) => cf_set_grad_raw(t, g ?? TensorHandle.Null);

    [DllImport(Lib)] internal static extern int cf_adam_step(TensorHandle p, TensorHandle expAvg, TensorHandle expAvgSq, double lr, double beta1, double beta2, double eps, double weightDecay, long step, int amsgrad);
    [DllImport(Lib, EntryPoint = "cf_sgd_step")] private static extern int cf_sgd_step_raw(TensorHandle p, TensorHandle momentumBuf, double lr, double momentum, double dampening, double weightDecay, int nesterov, int first);
    // A null SafeHandle cannot be marshalled (ArgumentNullException): optional handles go through the Null sentinel.
    internal static int cf_sgd_step(TensorHandle p, TensorHandle? momentumBuf, double lr, double momentum, double dampening, double weightDecay, int nesterov, int first) => cf_sgd_step_raw(p, momentumBuf ?? TensorHandle.Null, lr, momentum, dampening, weightDecay, nesterov, first);

    [DllImport(Lib)] internal static extern int cf_set_data(TensorHandle t, TensorHandle src);
    [DllImport(Lib)] internal static extern int cf_cuda_is_available();
    [DllImport(Lib)] internal static extern int cf_cuda_device_count();
    [DllImport(Lib)] internal static extern int cf_cuda_synchronize();
}

/// <summary>Owns one native at::Tensor*; freed exactly once, by Dispose or by the finalizer.</summary>
internal sealed class TensorHandle : SafeHandle
{
    public TensorHandle(IntPtr h) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(h);

    /// <summary>Marshals as a null pointer, for optional arguments (a null SafeHandle reference cannot be marshalled).</summary>
    internal static readonly TensorHandle Null = new(IntPtr.Zero);
    public override bool IsInvalid => handle == IntPtr.Zero;
    protected override bool ReleaseHandle()
    {
        NativeMethods.cf_free(handle);
        return true;
    }
}

internal sealed class GeneratorHandle : SafeHandle
{
    public GeneratorHandle(IntPtr h) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(h);

    /// <summary>Marshals as a null pointer, for optional arguments (a null SafeHandle reference cannot be marshalled).</summary>
    internal static readonly GeneratorHandle Null = new(IntPtr.Zero);
    public override bool IsInvalid => handle == IntPtr.Zero;
    protected override bool ReleaseHandle()
    {
        NativeMethods.cf_generator_free(handle);
        return true;
    }
}
