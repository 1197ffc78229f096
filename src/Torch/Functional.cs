using CoFUsfl.Torch.Native;
using static CoFUsfl.Torch.Native.NativeMethods;

namespace CoFUsfl.Torch;

#pragma warning disable CS8981, IDE1006

/// <summary>Loss reductions, as torch.nn.functional's <c>reduction=</c>.</summary>
public enum Reduction { None = 0, Mean = 1, Sum = 2 }

/// <summary>Padding modes of <see cref="F.pad"/>.</summary>
public enum PadMode { Constant = 0, Reflect = 1, Replicate = 2, Circular = 3 }

public enum InterpolateMode { Nearest = 0, Bilinear = 1, Bicubic = 2 }

/// <summary>torch.nn.functional, narrowed to what learned codecs and split training use.</summary>
public static class F
{
    public static unsafe Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1)
    {
        long* s = stackalloc long[] { stride, stride };
        long* p = stackalloc long[] { padding, padding };
        long* d = stackalloc long[] { dilation, dilation };
        var r = new Tensor(cf_conv2d(input.Handle, weight.Handle, (bias?.Handle).OrNull(), s, p, d, groups));
        GC.KeepAlive(bias);
        return r;
    }

    public static unsafe Tensor conv_transpose2d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0,
        long outputPadding = 0, long groups = 1, long dilation = 1)
    {
        long* s = stackalloc long[] { stride, stride };
        long* p = stackalloc long[] { padding, padding };
        long* o = stackalloc long[] { outputPadding, outputPadding };
        long* d = stackalloc long[] { dilation, dilation };
        var r = new Tensor(cf_conv_transpose2d(input.Handle, weight.Handle, (bias?.Handle).OrNull(), s, p, o, groups, d));
        GC.KeepAlive(bias);
        return r;
    }

    public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        var r = new Tensor(cf_linear(input.Handle, weight.Handle, (bias?.Handle).OrNull()));
        GC.KeepAlive(bias);
        return r;
    }
    public static Tensor pixel_shuffle(Tensor input, long upscale) => new(cf_pixel_shuffle(input.Handle, upscale, 0));
    public static Tensor pixel_unshuffle(Tensor input, long downscale) => new(cf_pixel_shuffle(input.Handle, downscale, 1));

    public static Tensor interpolate(Tensor input, long height, long width, InterpolateMode mode = InterpolateMode.Nearest) =>
        new(cf_interpolate(input.Handle, height, width, 0, 0, (int)mode));
    public static Tensor interpolate(Tensor input, double scaleFactor, InterpolateMode mode = InterpolateMode.Nearest) =>
        new(cf_interpolate(input.Handle, 0, 0, scaleFactor, scaleFactor, (int)mode));

    public static Tensor max_pool2d(Tensor input, long kernel, long stride = 0, long padding = 0) =>
        new(cf_pool2d(0, input.Handle, kernel, kernel, stride == 0 ? kernel : stride, stride == 0 ? kernel : stride, padding, padding));
    public static Tensor avg_pool2d(Tensor input, long kernel, long stride = 0, long padding = 0) =>
        new(cf_pool2d(1, input.Handle, kernel, kernel, stride == 0 ? kernel : stride, stride == 0 ? kernel : stride, padding, padding));
    public static Tensor adaptive_avg_pool2d(Tensor input, long outH, long outW) => new(cf_pool2d(2, input.Handle, outH, outW, 1, 1, 0, 0));

    /// <summary>pads as in PyTorch: pairs for the last dimension first, e.g. (left, right, top, bottom).</summary>
    public static unsafe Tensor pad(Tensor input, long[] pads, PadMode mode = PadMode.Constant, double value = 0)
    {
        fixed (long* p = pads) return new(cf_pad(input.Handle, p, pads.Length, (int)mode, value));
    }

    public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) => new(cf_mse_loss(input.Handle, target.Handle, (int)reduction));
    public static Tensor cross_entropy(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean) => new(cf_cross_entropy(logits.Handle, target.Handle, (int)reduction));
    public static Tensor log_softmax(Tensor input, long dim) => new(cf_log_softmax(input.Handle, dim));
    public static Tensor softmax(Tensor input, long dim) => new(cf_softmax(input.Handle, dim));
    public static Tensor relu(Tensor x) => x.relu();
    public static Tensor leaky_relu(Tensor x, double slope = 0.01) => x.leaky_relu(slope);
    public static Tensor softplus(Tensor x) => x.softplus();
    public static Tensor sigmoid(Tensor x) => x.sigmoid();
    public static Tensor tanh(Tensor x) => x.tanh();
}

/// <summary>Custom autograd functions of learned compression (CompressAI's ops).</summary>
public static class ops
{
    /// <summary>
    /// CompressAI's LowerBound: forward max(x, bound); the gradient passes where x ≥ bound or where the
    /// incoming gradient is negative (it would push x up), so a parameter at the bound can recover.
    /// </summary>
    public static Tensor lower_bound(Tensor x, double bound) => new(cf_lower_bound(x.Handle, bound));

    /// <summary>Straight-through rounding: forward round(x), backward identity.</summary>
    public static Tensor round_ste(Tensor x) => new(cf_round_ste(x.Handle));
}
