namespace CoFUsfl.Torch.Tests;

/// <summary>
/// Forward values against .NET math: proves each C# method reaches the intended libtorch op
/// (the op codes are shared enums on both sides of the ABI, which a gradient check cannot see).
/// </summary>
public class ForwardValueTests
{
    private static readonly double[] X = [0.3, 0.7, 1.2, 2.5, 0.05];
    private static readonly double[] Y = [1.5, -0.4, 0.9, 2.0, -3.0];

    private static readonly Dictionary<string, (Func<Tensor, Tensor> op, Func<double, double> expected)> Unary = new()
    {
        ["neg"] = (t => t.neg(), v => -v),
        ["abs"] = (t => (t - 1.0).abs(), v => Math.Abs(v - 1)),
        ["sign"] = (t => (t - 1.0).sign(), v => Math.Sign(v - 1)),
        ["exp"] = (t => t.exp(), Math.Exp),
        ["log"] = (t => t.log(), Math.Log),
        ["log2"] = (t => t.log2(), Math.Log2),
        ["log1p"] = (t => t.log1p(), v => Math.Log(1 + v)),
        ["expm1"] = (t => t.expm1(), v => Math.Exp(v) - 1),
        ["sqrt"] = (t => t.sqrt(), Math.Sqrt),
        ["rsqrt"] = (t => t.rsqrt(), v => 1 / Math.Sqrt(v)),
        ["round"] = (t => (t * 3.0).round(), v => Math.Round(v * 3, MidpointRounding.ToEven)),
        ["floor"] = (t => (t * 3.0).floor(), v => Math.Floor(v * 3)),
        ["ceil"] = (t => (t * 3.0).ceil(), v => Math.Ceiling(v * 3)),
        ["trunc"] = (t => (t * -3.0).trunc(), v => Math.Truncate(v * -3)),
        ["sigmoid"] = (t => t.sigmoid(), v => 1 / (1 + Math.Exp(-v))),
        ["tanh"] = (t => t.tanh(), Math.Tanh),
        ["relu"] = (t => (t - 1.0).relu(), v => Math.Max(v - 1, 0)),
        ["leaky_relu"] = (t => (t - 1.0).leaky_relu(0.2), v => v - 1 >= 0 ? v - 1 : 0.2 * (v - 1)),
        ["softplus"] = (t => t.softplus(), v => Math.Log(1 + Math.Exp(v))),
        ["erfc"] = (t => t.erfc(), v => 1 - Erf(v)),
        ["erf"] = (t => t.erf(), Erf),
        ["sin"] = (t => t.sin(), Math.Sin),
        ["cos"] = (t => t.cos(), Math.Cos),
        ["reciprocal"] = (t => t.reciprocal(), v => 1 / v),
        ["square"] = (t => t.square(), v => v * v),
        ["clone"] = (t => t.clone(), v => v),
        ["contiguous"] = (t => t.contiguous(), v => v),
        ["clamp"] = (t => t.clamp(0.5, 1.0), v => Math.Clamp(v, 0.5, 1.0)),
        ["clamp min only"] = (t => t.clamp(min: 0.5), v => Math.Max(v, 0.5)),
        ["clamp max only"] = (t => t.clamp(max: 1.0), v => Math.Min(v, 1.0)),
        ["clamp_min"] = (t => t.clamp_min(0.5), v => Math.Max(v, 0.5)),
        ["clamp_max"] = (t => t.clamp_max(1.0), v => Math.Min(v, 1.0)),
        ["pow scalar"] = (t => t.pow(1.5), v => Math.Pow(v, 1.5)),
        ["remainder scalar"] = (t => (t * -7.0).remainder(2.0), v => ((v * -7) % 2 + 2) % 2),
        ["plus scalar"] = (t => t + 2.0, v => v + 2),
        ["scalar plus"] = (t => 2.0 + t, v => 2 + v),
        ["minus scalar"] = (t => t - 2.0, v => v - 2),
        ["scalar minus"] = (t => 2.0 - t, v => 2 - v),
        ["times scalar"] = (t => t * 2.0, v => v * 2),
        ["scalar times"] = (t => 2.0 * t, v => 2 * v),
        ["over scalar"] = (t => t / 2.0, v => v / 2),
        ["scalar over"] = (t => 2.0 / t, v => 2 / v),
        ["gelu"] = (t => t.gelu(), v => 0.5 * v * (1 + Erf(v / Math.Sqrt(2)))),
    };

    private static readonly Dictionary<string, (Func<Tensor, Tensor, Tensor> op, Func<double, double, double> expected)> Binary = new()
    {
        ["add"] = ((a, b) => a + b, (a, b) => a + b),
        ["sub"] = ((a, b) => a - b, (a, b) => a - b),
        ["mul"] = ((a, b) => a * b, (a, b) => a * b),
        ["div"] = ((a, b) => a / b, (a, b) => a / b),
        ["pow"] = ((a, b) => a.pow(b), Math.Pow),
        ["maximum"] = ((a, b) => a.maximum(b), Math.Max),
        ["minimum"] = ((a, b) => a.minimum(b), Math.Min),
        ["atan2"] = ((a, b) => a.atan2(b), Math.Atan2),
        ["remainder"] = ((a, b) => a.remainder(b), (a, b) => a - Math.Floor(a / b) * b),
    };

    private static double Erf(double x)
    {
        // Abramowitz–Stegun 7.1.26 is too coarse; integrate the series instead (|x| ≤ 3 here).
        double sum = 0, term = x;
        for (var n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    public static TheoryData<string> UnaryNames() => new(Unary.Keys);
    public static TheoryData<string> BinaryNames() => new(Binary.Keys);

    [Theory]
    [MemberData(nameof(UnaryNames))]
    public void Elementwise_op_computes_its_PyTorch_function(string name)
    {
        using var s = torch.NewDisposeScope();
        var (op, f) = Unary[name];
        var actual = op(Inputs.Of(X)).data<double>();
        for (var i = 0; i < X.Length; i++) actual[i].Should().BeApproximately(f(X[i]), 1e-12, $"{name}({X[i]})");
    }

    [Theory]
    [MemberData(nameof(BinaryNames))]
    public void Binary_op_computes_its_PyTorch_function(string name)
    {
        using var s = torch.NewDisposeScope();
        var (op, f) = Binary[name];
        var actual = op(Inputs.Of(X), Inputs.Of(Y)).data<double>();
        for (var i = 0; i < X.Length; i++) actual[i].Should().BeApproximately(f(X[i], Y[i]), 1e-12, $"{name}({X[i]}, {Y[i]})");
    }

    [Fact]
    public void Comparisons_and_logical_ops_give_booleans()
    {
        using var s = torch.NewDisposeScope();
        var a = Inputs.Of([1, 2, 3]);
        var b = Inputs.Of([3, 2, 1]);
        a.eq(b).data<bool>().Should().Equal(false, true, false);
        a.ne(b).data<bool>().Should().Equal(true, false, true);
        a.lt(b).data<bool>().Should().Equal(true, false, false);
        a.le(b).data<bool>().Should().Equal(true, true, false);
        a.gt(b).data<bool>().Should().Equal(false, false, true);
        a.ge(b).data<bool>().Should().Equal(false, true, true);
        a.eq(2).data<bool>().Should().Equal(false, true, false);
        a.ne(2).data<bool>().Should().Equal(true, false, true);
        a.lt(2).data<bool>().Should().Equal(true, false, false);
        a.le(2).data<bool>().Should().Equal(true, true, false);
        a.gt(2).data<bool>().Should().Equal(false, false, true);
        a.ge(2).data<bool>().Should().Equal(false, true, true);
        a.gt(1).logical_and(a.lt(3)).data<bool>().Should().Equal(false, true, false);
        a.lt(2).logical_or(a.gt(2)).data<bool>().Should().Equal(true, false, true);
        a.lt(2).logical_not().data<bool>().Should().Equal(false, true, true);
        (a / Inputs.Of([1, 0, 1])).isfinite().data<bool>().Should().Equal(true, false, true);
        a.gt(0).all().item().Should().Be(1);
        a.gt(2).any().item().Should().Be(1);
    }

    [Fact]
    public void Reductions_compute_their_PyTorch_values()
    {
        using var s = torch.NewDisposeScope();
        var m = Inputs.Of([1, 5, 2, 4, 3, 6], 2, 3);
        m.sum().item().Should().Be(21);
        m.sum(1).data<double>().Should().Equal(8, 13);
        m.sum([0L, 1L]).item().Should().Be(21);
        m.mean().item().Should().Be(3.5);
        m.mean(0).data<double>().Should().Equal(2.5, 4, 4);
        m.max().item().Should().Be(6);
        m.amax([1]).data<double>().Should().Equal(5, 6);
        m.min().item().Should().Be(1);
        m.amin([0]).data<double>().Should().Equal(1, 3, 2);
        m.argmax().item().Should().Be(5);
        m.argmax(1).data<long>().Should().Equal(1, 2);
        m.argmin(1).data<long>().Should().Equal(0, 1);
        m.norm().item().Should().BeApproximately(Math.Sqrt(91), 1e-12);
        m.norm([1]).data<double>()[0].Should().BeApproximately(Math.Sqrt(30), 1e-12);
        m.prod().item().Should().Be(720);
        m.logsumexp([1]).data<double>()[0].Should().BeApproximately(Math.Log(Math.Exp(1) + Math.Exp(5) + Math.Exp(2)), 1e-12);
        m.var().item().Should().BeApproximately(3.5, 1e-12, "unbiased, as torch.var");
        m.std().item().Should().BeApproximately(Math.Sqrt(3.5), 1e-12);
        m.cumsum(1).data<double>().Should().Equal(1, 6, 8, 4, 7, 13);
        m.sum(1, keepdim: true).shape.Should().Equal(2, 1);
    }

    [Fact]
    public void Shape_ops_lay_out_elements_as_PyTorch()
    {
        using var s = torch.NewDisposeScope();
        var a = torch.arange(0, 6, 1, ScalarType.Float64).reshape(2, 3);
        a.transpose(0, 1).contiguous().data<double>().Should().Equal(0, 3, 1, 4, 2, 5);
        a.permute(1, 0).shape.Should().Equal(3, 2);
        a.narrow(1, 1, 2).contiguous().data<double>().Should().Equal(1, 2, 4, 5);
        a.slice(1, 0, 3, 2).contiguous().data<double>().Should().Equal(0, 2, 3, 5);
        a.select(0, 1).data<double>().Should().Equal(3, 4, 5);
        torch.cat([a, a], 0).shape.Should().Equal(4, 3);
        torch.stack([a, a], 1).shape.Should().Equal(2, 2, 3);
        a.unsqueeze(0).shape.Should().Equal(1, 2, 3);
        a.unsqueeze(0).squeeze(0).shape.Should().Equal(2, 3);
        a.reshape(1, 2, 1, 3).squeeze().shape.Should().Equal(2, 3);
        a.reshape(2, 1, 3).expand(2, 4, 3).shape.Should().Equal(2, 4, 3);
        a.repeat(2, 1).data<double>().Should().Equal(0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5);
        a.flatten().shape.Should().Equal(6);
        a.view(3, 2).data<double>().Should().Equal(0, 1, 2, 3, 4, 5);
        a.index_select(1, torch.from_array(new long[] { 2, 0 }, 2)).data<double>().Should().Equal(2, 0, 5, 3);
        a.gather(1, torch.from_array(new long[] { 1, 0 }, 2, 1)).data<double>().Should().Equal(1, 3);
        a.masked_select(a.gt(3)).data<double>().Should().Equal(4, 5);
        var (v, i) = a.topk(2, 1);
        v.data<double>().Should().Equal(2, 1, 5, 4);
        i.data<long>().Should().Equal(2, 1, 2, 1);
        torch.zeros([2, 3], ScalarType.Float64).scatter(1, torch.from_array(new long[] { 2, 0 }, 2, 1), torch.ones([2, 1], ScalarType.Float64))
            .data<double>().Should().Equal(0, 0, 1, 1, 0, 0);
        torch.where(a.gt(2), a, torch.zeros_like(a)).data<double>().Should().Equal(0, 0, 0, 3, 4, 5);
    }

    [Fact]
    public void Pad_takes_pairs_for_the_last_dimension_first()
    {
        using var s = torch.NewDisposeScope();
        // libtorch (as Python's F.pad) reflects/replicates one spatial dim on 2D/3D inputs, two on 3D/4D.
        var a = torch.arange(1, 4, 1, ScalarType.Float64).reshape(1, 1, 3);
        F.pad(a, [2, 1], PadMode.Constant, 9).data<double>().Should().Equal(9, 9, 1, 2, 3, 9);
        F.pad(a, [2, 1], PadMode.Reflect).data<double>().Should().Equal(3, 2, 1, 2, 3, 2);
        F.pad(a, [2, 1], PadMode.Replicate).data<double>().Should().Equal(1, 1, 1, 2, 3, 3);
        F.pad(a, [2, 1], PadMode.Circular).data<double>().Should().Equal(2, 3, 1, 2, 3, 1);
        var img = torch.arange(1, 5, 1, ScalarType.Float64).reshape(1, 1, 2, 2);
        F.pad(img, [0, 0, 1, 0]).data<double>().Should().Equal(0, 0, 1, 2, 3, 4);
        F.pad(img, [1, 0, 0, 0], PadMode.Replicate).data<double>().Should().Equal(1, 1, 2, 3, 3, 4);
    }

    [Fact]
    public void Conv2d_computes_a_cross_correlation_with_bias_stride_and_padding()
    {
        using var s = torch.NewDisposeScope();
        var x = torch.arange(0, 16, 1, ScalarType.Float64).reshape(1, 1, 4, 4);
        var w = Inputs.Of([1, 0, 0, -1], 1, 1, 2, 2);       // x[i,j] - x[i+1,j+1] = -5 everywhere
        var b = Inputs.Of([0.5]);
        F.conv2d(x, w, b).data<double>().Should().OnlyContain(v => v == -4.5);
        F.conv2d(x, w, b, stride: 2).shape.Should().Equal(1, 1, 2, 2);
        var padded = F.conv2d(x, w, null, padding: 1).data<double>();
        padded.Should().HaveCount(25);
        padded[0].Should().Be(-0.0 - 0);  // top-left: only x[0,0] under the -1 tap
        padded[24].Should().Be(15);       // bottom-right: only x[3,3] under the +1 tap
    }

    [Fact]
    public void Conv_transpose2d_is_the_adjoint_of_conv2d()
    {
        // <conv(x), y> == <x, conv_transpose(y)> for the same weight, stride and padding.
        using var s = torch.NewDisposeScope();
        var x = Inputs.Normal(1, 1, 2, 7, 7);
        var w = Inputs.Normal(2, 3, 2, 3, 3);
        var y = Inputs.Normal(3, 1, 3, 4, 4);
        var lhs = (F.conv2d(x, w, null, stride: 2, padding: 1) * y).sum().item();
        var xt = F.conv_transpose2d(y, w, null, stride: 2, padding: 1);
        xt.shape.Should().Equal(1, 2, 7, 7);
        var rhs = (x * xt).sum().item();
        lhs.Should().BeApproximately(rhs, 1e-10);
        F.conv_transpose2d(y, w, null, stride: 2, padding: 1, outputPadding: 1).shape.Should().Equal(1, 2, 8, 8);
    }

    [Fact]
    public void Pixel_shuffle_moves_channels_into_space_as_PyTorch_and_unshuffle_inverts_it()
    {
        using var s = torch.NewDisposeScope();
        var x = torch.arange(0, 4, 1, ScalarType.Float64).reshape(1, 4, 1, 1);
        var y = F.pixel_shuffle(x, 2);
        y.shape.Should().Equal(1, 1, 2, 2);
        y.data<double>().Should().Equal(0, 1, 2, 3);
        var z = Inputs.Normal(4, 2, 8, 3, 5);
        F.pixel_unshuffle(F.pixel_shuffle(z, 2), 2).equal(z).Should().BeTrue();
    }

    [Fact]
    public void Interpolate_with_a_scale_factor_samples_like_PyTorch()
    {
        using var s = torch.NewDisposeScope();
        var x = Inputs.Of([0, 1, 2], 1, 1, 1, 3);
        F.interpolate(x, 2.0).data<double>().Should().Equal(0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2);
        // F.interpolate(x, scale_factor=1.5, mode="bilinear") maps output j to input (j + 0.5) / 1.5 - 0.5.
        var b = F.interpolate(x, 1.5, InterpolateMode.Bilinear).data<double>();
        b.Should().HaveCount(4);
        b.Zip(new[] { 0, 0.5, 7.0 / 6, 11.0 / 6 }).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-12);
        // With an explicit size the mapping is in/out.
        F.interpolate(x, 1, 4, InterpolateMode.Bilinear).data<double>()
            .Zip(new[] { 0, 0.625, 1.375, 2 }).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-12);
    }

    [Fact]
    public void Pooling_computes_max_average_and_adaptive_average()
    {
        using var s = torch.NewDisposeScope();
        var x = torch.arange(0, 16, 1, ScalarType.Float64).reshape(1, 1, 4, 4);
        F.max_pool2d(x, 2).data<double>().Should().Equal(5, 7, 13, 15);
        F.avg_pool2d(x, 2).data<double>().Should().Equal(2.5, 4.5, 10.5, 12.5);
        F.adaptive_avg_pool2d(x, 1, 1).item().Should().Be(7.5);
    }

    [Fact]
    public void Losses_and_softmax_compute_their_definitions()
    {
        using var s = torch.NewDisposeScope();
        var a = Inputs.Of([1, 2, 3]);
        var b = Inputs.Of([1, 0, 7]);
        F.mse_loss(a, b).item().Should().BeApproximately(20.0 / 3, 1e-12);
        F.mse_loss(a, b, Reduction.Sum).item().Should().Be(20);
        F.mse_loss(a, b, Reduction.None).data<double>().Should().Equal(0, 4, 16);
        var logits = Inputs.Of([1, 2, 3, 1, 1, 1], 2, 3);
        var target = torch.from_array(new long[] { 2, 0 }, 2);
        var lse0 = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        var expected = ((lse0 - 3) + Math.Log(3)) / 2;
        F.cross_entropy(logits, target).item().Should().BeApproximately(expected, 1e-12);
        F.cross_entropy(logits, target, Reduction.Sum).item().Should().BeApproximately(2 * expected, 1e-12);
        F.log_softmax(logits, 1).data<double>()[2].Should().BeApproximately(3 - lse0, 1e-12);
        F.softmax(logits, 1).sum(1).data<double>().Should().OnlyContain(v => Math.Abs(v - 1) < 1e-12);
        F.linear(Inputs.Of([1, 2], 1, 2), Inputs.Of([3, 4, 5, 6], 2, 2), Inputs.Of([0.5, -0.5])).data<double>().Should().Equal(11.5, 16.5);
        Inputs.Of([1, 2, 3, 4], 2, 2).matmul(Inputs.Of([1, 1], 2)).data<double>().Should().Equal(3, 7);
    }

    [Fact]
    public void Creation_functions_fill_as_PyTorch()
    {
        using var s = torch.NewDisposeScope();
        torch.zeros([2, 2]).data<float>().Should().Equal(0, 0, 0, 0);
        torch.ones([3], ScalarType.Int64).data<long>().Should().Equal(1, 1, 1);
        torch.full([2], 2.5, ScalarType.Float64).data<double>().Should().Equal(2.5, 2.5);
        torch.full_like(torch.zeros([2]), 4).data<float>().Should().Equal(4, 4);
        torch.ones_like(torch.zeros([2], ScalarType.Float64)).data<double>().Should().Equal(1, 1);
        torch.empty([4, 5]).shape.Should().Equal(4, 5);
        torch.empty_like(torch.zeros([3], ScalarType.Int32)).dtype.Should().Be(ScalarType.Int32);
        torch.arange(5).data<long>().Should().Equal(0, 1, 2, 3, 4);
        torch.scalar(7).dim().Should().Be(0);
        using var g = new Generator(1);
        torch.rand([1000], g).data<float>().Should().OnlyContain(v => v >= 0 && v < 1);
        torch.uniform([1000], 2, 3, g).data<float>().Should().OnlyContain(v => v >= 2 && v < 3);
        var n = torch.randn([20000], g, ScalarType.Float64);
        n.mean().item().Should().BeApproximately(0, 0.05);
        n.std().item().Should().BeApproximately(1, 0.05);
        torch.randn_like(n, g).std().item().Should().BeApproximately(1, 0.05);
    }

    [Fact]
    public void Dtype_conversions_and_element_access_round_trip()
    {
        using var s = torch.NewDisposeScope();
        var f = torch.from_array(new[] { 1.5f, -2.5f, 3.25f }, 3);
        f.dtype.Should().Be(ScalarType.Float32);
        f.@double().data<double>().Should().Equal(1.5, -2.5, 3.25);
        f.@long().data<long>().Should().Equal(1, -2, 3);
        f.to(ScalarType.Float16).data<Half>().Select(h => (float)h).Should().Equal(1.5f, -2.5f, 3.25f);
        f.AsSpan<float>().ToArray().Should().Equal(1.5f, -2.5f, 3.25f);
        var dst = new float[3];
        f.CopyTo<float>(dst);
        dst.Should().Equal(1.5f, -2.5f, 3.25f);
        var tooSmall = () => f.CopyTo<float>(new float[2]);
        tooSmall.Should().Throw<TorchException>().WithMessage("*buffer of 8 bytes, tensor has 12*");
        f.ToStringWithValues().Should().Contain("1.5").And.Contain("3.25");
        f.ToString().Should().Be("Tensor([3], Float32, cpu)");
        torch.scalar(2.5).itemf().Should().Be(2.5f);
        torch.from_array(new[] { true, false }, 2).dtype.Should().Be(ScalarType.Bool);
        f.transpose(0, 0).equal(f).Should().BeTrue();
        f.equal(f.@double()).Should().BeFalse("equal requires the same dtype");
    }

    [Fact]
    public void Assigning_a_gradient_of_the_wrong_shape_is_rejected_like_PyTorch()
    {
        using var s = torch.NewDisposeScope();
        var p = torch.zeros([3]).requires_grad_();
        var act = () => p.grad = torch.zeros([4]);
        act.Should().Throw<TorchException>().WithMessage("*[4]*[3]*");
        p.grad = torch.ones([3]);
        p.grad!.data<float>().Should().Equal(1, 1, 1);
    }
}
