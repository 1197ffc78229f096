using static CoFUsfl.Torch.Native.NativeMethods;

namespace CoFUsfl.Torch;

#pragma warning disable CS8981, IDE1006

// Op codes shared with native/src/tensor.cpp (enum Unary, Binary, ScalarOp, Reduce): keep in the same order.
internal enum UnaryOp
{
    Neg, Abs, Sign, Exp, Log, Log2, Sqrt, Rsqrt, Round, Floor, Ceil, Sigmoid, Tanh, Relu, Softplus, Erfc, Erf, Sin, Cos,
    Reciprocal, Square, Contiguous, Detach, Clone, LogicalNot, Log1p, Expm1, Trunc, IsFinite, Gelu,
}
internal enum BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, Matmul, Remainder, LogicalAnd, LogicalOr, Atan2 }
internal enum ScalarOp { Add, Sub, Mul, Div, Pow, Eq, Ne, Lt, Le, Gt, Ge, ClampMin, ClampMax, LeakyRelu, Remainder, Fmod }
internal enum ReduceOp { Sum, Mean, Max, Min, Argmax, Argmin, Norm, Prod, Any, All, LogSumExp, Var, Std }

public sealed partial class Tensor
{
    internal Tensor Unary(UnaryOp op) => new(cf_unary((int)op, Handle));
    private Tensor Binary(BinaryOp op, Tensor other) => new(cf_binary((int)op, Handle, other.Handle));
    private Tensor Scalar(ScalarOp op, double s, bool reverse = false) => new(cf_binary_scalar((int)op, Handle, s, reverse ? 1 : 0));

    // elementwise math
    public Tensor neg() => Unary(UnaryOp.Neg);
    public Tensor abs() => Unary(UnaryOp.Abs);
    public Tensor sign() => Unary(UnaryOp.Sign);
    public Tensor exp() => Unary(UnaryOp.Exp);
    public Tensor log() => Unary(UnaryOp.Log);
    public Tensor log2() => Unary(UnaryOp.Log2);
    public Tensor log1p() => Unary(UnaryOp.Log1p);
    public Tensor expm1() => Unary(UnaryOp.Expm1);
    public Tensor sqrt() => Unary(UnaryOp.Sqrt);
    public Tensor rsqrt() => Unary(UnaryOp.Rsqrt);
    public Tensor round() => Unary(UnaryOp.Round);
    public Tensor floor() => Unary(UnaryOp.Floor);
    public Tensor ceil() => Unary(UnaryOp.Ceil);
    public Tensor trunc() => Unary(UnaryOp.Trunc);
    public Tensor sigmoid() => Unary(UnaryOp.Sigmoid);
    public Tensor tanh() => Unary(UnaryOp.Tanh);
    public Tensor relu() => Unary(UnaryOp.Relu);
    public Tensor gelu() => Unary(UnaryOp.Gelu);
    public Tensor softplus() => Unary(UnaryOp.Softplus);
    public Tensor erfc() => Unary(UnaryOp.Erfc);
    public Tensor erf() => Unary(UnaryOp.Erf);
    public Tensor sin() => Unary(UnaryOp.Sin);
    public Tensor cos() => Unary(UnaryOp.Cos);
    public Tensor reciprocal() => Unary(UnaryOp.Reciprocal);
    public Tensor square() => Unary(UnaryOp.Square);
    public Tensor logical_not() => Unary(UnaryOp.LogicalNot);
    public Tensor isfinite() => Unary(UnaryOp.IsFinite);
    public Tensor leaky_relu(double negativeSlope = 0.01) => Scalar(ScalarOp.LeakyRelu, negativeSlope);

    public Tensor add(Tensor o) => Binary(BinaryOp.Add, o);
    public Tensor sub(Tensor o) => Binary(BinaryOp.Sub, o);
    public Tensor mul(Tensor o) => Binary(BinaryOp.Mul, o);
    public Tensor div(Tensor o) => Binary(BinaryOp.Div, o);
    public Tensor pow(Tensor o) => Binary(BinaryOp.Pow, o);
    public Tensor pow(double e) => Scalar(ScalarOp.Pow, e);
    public Tensor maximum(Tensor o) => Binary(BinaryOp.Maximum, o);
    public Tensor minimum(Tensor o) => Binary(BinaryOp.Minimum, o);
    public Tensor matmul(Tensor o) => Binary(BinaryOp.Matmul, o);
    public Tensor remainder(Tensor o) => Binary(BinaryOp.Remainder, o);
    public Tensor remainder(double s) => Scalar(ScalarOp.Remainder, s);
    public Tensor atan2(Tensor o) => Binary(BinaryOp.Atan2, o);
    public Tensor logical_and(Tensor o) => Binary(BinaryOp.LogicalAnd, o);
    public Tensor logical_or(Tensor o) => Binary(BinaryOp.LogicalOr, o);

    public Tensor eq(Tensor o) => Binary(BinaryOp.Eq, o);
    public Tensor ne(Tensor o) => Binary(BinaryOp.Ne, o);
    public Tensor lt(Tensor o) => Binary(BinaryOp.Lt, o);
    public Tensor le(Tensor o) => Binary(BinaryOp.Le, o);
    public Tensor gt(Tensor o) => Binary(BinaryOp.Gt, o);
    public Tensor ge(Tensor o) => Binary(BinaryOp.Ge, o);
    public Tensor eq(double s) => Scalar(ScalarOp.Eq, s);
    public Tensor ne(double s) => Scalar(ScalarOp.Ne, s);
    public Tensor lt(double s) => Scalar(ScalarOp.Lt, s);
    public Tensor le(double s) => Scalar(ScalarOp.Le, s);
    public Tensor gt(double s) => Scalar(ScalarOp.Gt, s);
    public Tensor ge(double s) => Scalar(ScalarOp.Ge, s);

    public Tensor clamp(double? min = null, double? max = null) =>
        new(cf_clamp(Handle, min ?? 0, max ?? 0, min.HasValue ? 1 : 0, max.HasValue ? 1 : 0));
    public Tensor clamp_min(double min) => Scalar(ScalarOp.ClampMin, min);
    public Tensor clamp_max(double max) => Scalar(ScalarOp.ClampMax, max);

    public static Tensor operator +(Tensor a, Tensor b) => a.Binary(BinaryOp.Add, b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Binary(BinaryOp.Sub, b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Binary(BinaryOp.Mul, b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Binary(BinaryOp.Div, b);
    public static Tensor operator +(Tensor a, double s) => a.Scalar(ScalarOp.Add, s);
    public static Tensor operator -(Tensor a, double s) => a.Scalar(ScalarOp.Sub, s);
    public static Tensor operator *(Tensor a, double s) => a.Scalar(ScalarOp.Mul, s);
    public static Tensor operator /(Tensor a, double s) => a.Scalar(ScalarOp.Div, s);
    public static Tensor operator +(double s, Tensor a) => a.Scalar(ScalarOp.Add, s);
    public static Tensor operator -(double s, Tensor a) => a.Scalar(ScalarOp.Sub, s, reverse: true);
    public static Tensor operator *(double s, Tensor a) => a.Scalar(ScalarOp.Mul, s);
    public static Tensor operator /(double s, Tensor a) => a.Scalar(ScalarOp.Div, s, reverse: true);
    public static Tensor operator -(Tensor a) => a.Unary(UnaryOp.Neg);

    // reductions
    private unsafe Tensor Reduce(ReduceOp op, ReadOnlySpan<long> dims, bool keepdim)
    {
        fixed (long* p = dims) return new(cf_reduce((int)op, Handle, p, dims.Length, keepdim ? 1 : 0));
    }

    public Tensor sum() => Reduce(ReduceOp.Sum, default, false);
    public Tensor sum(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Sum, dims, keepdim);
    public Tensor sum(long dim, bool keepdim = false) => Reduce(ReduceOp.Sum, [dim], keepdim);
    public Tensor mean() => Reduce(ReduceOp.Mean, default, false);
    public Tensor mean(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Mean, dims, keepdim);
    public Tensor mean(long dim, bool keepdim = false) => Reduce(ReduceOp.Mean, [dim], keepdim);
    public Tensor max() => Reduce(ReduceOp.Max, default, false);
    public Tensor amax(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Max, dims, keepdim);
    public Tensor min() => Reduce(ReduceOp.Min, default, false);
    public Tensor amin(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Min, dims, keepdim);
    public Tensor argmax() => Reduce(ReduceOp.Argmax, default, false);
    public Tensor argmax(long dim, bool keepdim = false) => Reduce(ReduceOp.Argmax, [dim], keepdim);
    public Tensor argmin(long dim, bool keepdim = false) => Reduce(ReduceOp.Argmin, [dim], keepdim);
    public Tensor norm() => Reduce(ReduceOp.Norm, default, false);
    public Tensor norm(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Norm, dims, keepdim);
    public Tensor prod() => Reduce(ReduceOp.Prod, default, false);
    public Tensor any() => Reduce(ReduceOp.Any, default, false);
    public Tensor all() => Reduce(ReduceOp.All, default, false);
    public Tensor logsumexp(long[] dims, bool keepdim = false) => Reduce(ReduceOp.LogSumExp, dims, keepdim);
    public Tensor var() => Reduce(ReduceOp.Var, default, false);
    public Tensor std() => Reduce(ReduceOp.Std, default, false);
    public Tensor cumsum(long dim) => new(cf_cumsum(Handle, dim));

    // shapes
    public unsafe Tensor reshape(params long[] shape) { fixed (long* p = shape) return new(cf_reshape(Handle, p, shape.Length)); }
    public unsafe Tensor view(params long[] shape) { fixed (long* p = shape) return new(cf_view(Handle, p, shape.Length)); }
    public unsafe Tensor expand(params long[] shape) { fixed (long* p = shape) return new(cf_expand(Handle, p, shape.Length)); }
    public unsafe Tensor repeat(params long[] repeats) { fixed (long* p = repeats) return new(cf_repeat(Handle, p, repeats.Length)); }
    public unsafe Tensor permute(params long[] dims) { fixed (long* p = dims) return new(cf_permute(Handle, p, dims.Length)); }
    public Tensor transpose(long d0, long d1) => new(cf_transpose(Handle, d0, d1));
    public Tensor narrow(long dim, long start, long length) => new(cf_narrow(Handle, dim, start, length));
    public Tensor slice(long dim, long start, long end, long step = 1) => new(cf_slice(Handle, dim, start, end, step));
    public Tensor select(long dim, long index) => new(cf_select(Handle, dim, index));
    public Tensor unsqueeze(long dim) => new(cf_unsqueeze(Handle, dim));
    public Tensor squeeze() => new(cf_squeeze(Handle, 0, 1));
    public Tensor squeeze(long dim) => new(cf_squeeze(Handle, dim, 0));
    public Tensor flatten(long startDim = 0, long endDim = -1) => new(cf_flatten(Handle, startDim, endDim));
    public Tensor index_select(long dim, Tensor index) => new(cf_index_select(Handle, dim, index.Handle));
    public Tensor gather(long dim, Tensor index) => new(cf_gather(Handle, dim, index.Handle));
    public Tensor masked_select(Tensor mask) => new(cf_masked_select(Handle, mask.Handle));
    public Tensor scatter(long dim, Tensor index, Tensor src) => new(cf_scatter(Handle, dim, index.Handle, src.Handle));

    public (Tensor values, Tensor indices) topk(long k, long dim = -1, bool largest = true)
    {
        TorchException.Check(cf_topk(Handle, k, dim, largest ? 1 : 0, out var v, out var i));
        return (new Tensor(v), new Tensor(i));
    }
}
