namespace CoFUsfl.Torch.Tests;

/// <summary>Every differentiable op of the bindings: autograd agrees with central finite differences in float64.</summary>
public class GradientTests
{
    private sealed record Case(Func<Tensor[], Tensor> F, Func<Tensor[]> Inputs);

    private static Tensor[] T(params Tensor[] t) => t;
    private static Tensor N(int seed, params long[] s) => Inputs.Normal(seed, s);
    private static Tensor Z(int seed, params long[] s) => Inputs.AwayFromZero(seed, s);
    private static Tensor U(int seed, double lo, double hi, params long[] s) => Inputs.Uniform(seed, lo, hi, s);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // elementwise
        ["add (broadcast)"] = new(x => x[0] + x[1], () => T(N(1, 3, 4), N(2, 4))),
        ["sub"] = new(x => x[0] - x[1], () => T(N(1, 3, 4), N(2, 3, 4))),
        ["mul"] = new(x => x[0] * x[1], () => T(N(1, 3, 4), N(2, 3, 4))),
        ["div"] = new(x => x[0] / x[1], () => T(N(1, 3, 4), Z(2, 3, 4))),
        ["pow tensor"] = new(x => x[0].pow(x[1]), () => T(U(1, 0.5, 2, 3, 4), N(2, 3, 4))),
        ["pow scalar"] = new(x => x[0].pow(2.5), () => T(U(1, 0.5, 2, 3, 4))),
        ["exp"] = new(x => x[0].exp(), () => T(N(1, 3, 4))),
        ["log"] = new(x => x[0].log(), () => T(U(1, 0.3, 3, 3, 4))),
        ["log2"] = new(x => x[0].log2(), () => T(U(1, 0.3, 3, 3, 4))),
        ["sqrt"] = new(x => x[0].sqrt(), () => T(U(1, 0.3, 3, 3, 4))),
        ["rsqrt"] = new(x => x[0].rsqrt(), () => T(U(1, 0.3, 3, 3, 4))),
        ["abs"] = new(x => x[0].abs(), () => T(Z(1, 3, 4))),
        ["sigmoid"] = new(x => x[0].sigmoid(), () => T(N(1, 3, 4))),
        ["tanh"] = new(x => x[0].tanh(), () => T(N(1, 3, 4))),
        ["softplus"] = new(x => x[0].softplus(), () => T(N(1, 3, 4))),
        ["relu"] = new(x => x[0].relu(), () => T(Z(1, 3, 4))),
        ["leaky_relu"] = new(x => x[0].leaky_relu(0.1), () => T(Z(1, 3, 4))),
        ["erfc"] = new(x => x[0].erfc(), () => T(N(1, 3, 4))),
        ["square"] = new(x => x[0].square(), () => T(N(1, 3, 4))),
        ["reciprocal"] = new(x => x[0].reciprocal(), () => T(Z(1, 3, 4))),
        ["neg"] = new(x => -x[0], () => T(N(1, 3, 4))),
        ["maximum"] = new(x => x[0].maximum(x[1]), () => T(N(1, 3, 4), N(2, 3, 4))),
        ["minimum"] = new(x => torch.minimum(x[0], x[1]), () => T(N(1, 3, 4), N(2, 3, 4))),
        ["clamp"] = new(x => x[0].clamp(-0.5, 0.5), () => T(Inputs.Of([-1.2, -0.7, -0.3, -0.1, 0.2, 0.45, 0.6, 1.3]))),
        ["clamp_min"] = new(x => x[0].clamp_min(0.1), () => T(Inputs.Of([-1.2, -0.7, 0.3, 0.9]))),
        ["clamp_max"] = new(x => x[0].clamp_max(0.1), () => T(Inputs.Of([-1.2, -0.7, 0.3, 0.9]))),
        ["scalar add/mul/sub"] = new(x => 3.0 - (x[0] * 2.5 + 1.0), () => T(N(1, 3, 4))),
        ["scalar divided by tensor"] = new(x => 2.0 / x[0], () => T(Z(1, 3, 4))),
        ["tensor divided by scalar"] = new(x => x[0] / 4.0, () => T(N(1, 3, 4))),
        // reductions
        ["sum all"] = new(x => x[0].sum(), () => T(N(1, 3, 4))),
        ["sum dim keepdim"] = new(x => x[0].sum(1, keepdim: true), () => T(N(1, 3, 4))),
        ["mean all"] = new(x => x[0].mean(), () => T(N(1, 3, 4))),
        ["mean dims"] = new(x => x[0].mean([0, 2]), () => T(N(1, 3, 4, 2))),
        ["amax"] = new(x => x[0].amax([1]), () => T(N(1, 3, 5))),
        ["max all"] = new(x => x[0].max(), () => T(N(1, 3, 5))),
        ["norm all"] = new(x => x[0].norm(), () => T(N(1, 3, 4))),
        ["norm dims"] = new(x => x[0].norm([1], keepdim: true), () => T(N(1, 3, 4))),
        // shapes
        ["reshape"] = new(x => x[0].reshape(4, 3) * x[1], () => T(N(1, 3, 4), N(2, 4, 3))),
        ["view"] = new(x => x[0].view(2, 6), () => T(N(1, 3, 4))),
        ["permute"] = new(x => x[0].permute(2, 0, 1) * x[1], () => T(N(1, 2, 3, 4), N(2, 4, 2, 3))),
        ["transpose"] = new(x => x[0].transpose(0, 1).matmul(x[1]), () => T(N(1, 3, 4), N(2, 3, 2))),
        ["cat"] = new(x => torch.cat([x[0], x[1]], 1), () => T(N(1, 2, 3), N(2, 2, 4))),
        ["stack"] = new(x => torch.stack([x[0], x[1].exp()], 0), () => T(N(1, 2, 3), N(2, 2, 3))),
        ["narrow"] = new(x => x[0].narrow(1, 1, 2).exp(), () => T(N(1, 3, 4))),
        ["slice with step"] = new(x => x[0].slice(1, 0, 4, 2).exp(), () => T(N(1, 3, 5))),
        ["select"] = new(x => x[0].select(0, 1).exp(), () => T(N(1, 3, 4))),
        ["pad constant"] = new(x => F.pad(x[0], [1, 2, 0, 1], PadMode.Constant, 0.5).exp(), () => T(N(1, 1, 2, 3, 3))),
        ["pad reflect"] = new(x => F.pad(x[0], [1, 1, 2, 0], PadMode.Reflect), () => T(N(1, 1, 2, 4, 4))),
        ["pad replicate"] = new(x => F.pad(x[0], [1, 1, 1, 1], PadMode.Replicate), () => T(N(1, 1, 2, 3, 3))),
        ["unsqueeze"] = new(x => x[0].unsqueeze(1) * x[1], () => T(N(1, 3, 4), N(2, 3, 2, 4))),
        ["squeeze"] = new(x => x[0].squeeze(1).exp(), () => T(N(1, 3, 1, 4))),
        ["squeeze all"] = new(x => x[0].squeeze().exp(), () => T(N(1, 1, 3, 1))),
        ["expand"] = new(x => x[0].expand(3, 2, 4) * x[1], () => T(N(1, 3, 1, 4), N(2, 3, 2, 4))),
        ["flatten"] = new(x => x[0].flatten(1).exp(), () => T(N(1, 2, 3, 2))),
        ["contiguous of transposed"] = new(x => x[0].transpose(0, 1).contiguous().exp(), () => T(N(1, 3, 4))),
        ["where"] = new(x => torch.where(x[2].gt(0), x[0], x[1]), () => T(N(1, 3, 4), N(2, 3, 4), N(3, 3, 4))),
        // linear algebra and nn
        ["matmul"] = new(x => x[0].matmul(x[1]), () => T(N(1, 3, 4), N(2, 4, 2))),
        ["matmul batched"] = new(x => x[0].matmul(x[1]), () => T(N(1, 2, 3, 4), N(2, 2, 4, 2))),
        ["linear"] = new(x => F.linear(x[0], x[1], x[2]), () => T(N(1, 2, 4), N(2, 3, 4), N(3, 3))),
        ["linear without bias"] = new(x => F.linear(x[0], x[1]), () => T(N(1, 2, 4), N(2, 3, 4))),
        ["conv2d"] = new(x => F.conv2d(x[0], x[1], x[2]), () => T(N(1, 1, 2, 5, 5), N(2, 3, 2, 3, 3), N(3, 3))),
        ["conv2d stride 2 padding 1"] = new(x => F.conv2d(x[0], x[1], x[2], stride: 2, padding: 1), () => T(N(1, 2, 2, 5, 5), N(2, 3, 2, 3, 3), N(3, 3))),
        ["conv2d groups 2 without bias"] = new(x => F.conv2d(x[0], x[1], null, stride: 1, padding: 1, groups: 2), () => T(N(1, 1, 4, 4, 4), N(2, 4, 2, 3, 3))),
        ["conv2d dilation 2"] = new(x => F.conv2d(x[0], x[1], null, padding: 2, dilation: 2), () => T(N(1, 1, 2, 5, 5), N(2, 2, 2, 3, 3))),
        ["conv_transpose2d"] = new(x => F.conv_transpose2d(x[0], x[1], x[2]), () => T(N(1, 1, 2, 3, 3), N(2, 2, 3, 3, 3), N(3, 3))),
        ["conv_transpose2d stride 2 padding 1 output padding 1"] = new(x => F.conv_transpose2d(x[0], x[1], x[2], stride: 2, padding: 1, outputPadding: 1),
            () => T(N(1, 1, 2, 3, 3), N(2, 2, 3, 3, 3), N(3, 3))),
        ["conv_transpose2d groups 2"] = new(x => F.conv_transpose2d(x[0], x[1], x[2], stride: 2, padding: 2, outputPadding: 1, groups: 2),
            () => T(N(1, 1, 4, 3, 3), N(2, 4, 1, 5, 5), N(3, 2))),
        ["pixel_shuffle"] = new(x => F.pixel_shuffle(x[0], 2) * x[1], () => T(N(1, 1, 8, 2, 3), N(2, 1, 2, 4, 6))),
        ["pixel_unshuffle"] = new(x => F.pixel_unshuffle(x[0], 2) * x[1], () => T(N(1, 1, 2, 4, 6), N(2, 1, 8, 2, 3))),
        ["interpolate nearest x2"] = new(x => F.interpolate(x[0], 2.0), () => T(N(1, 1, 2, 3, 3))),
        ["interpolate bilinear to size"] = new(x => F.interpolate(x[0], 5, 7, InterpolateMode.Bilinear), () => T(N(1, 1, 2, 3, 4))),
        ["interpolate bicubic"] = new(x => F.interpolate(x[0], 2.0, InterpolateMode.Bicubic), () => T(N(1, 1, 1, 3, 3))),
        ["avg_pool2d"] = new(x => F.avg_pool2d(x[0], 2), () => T(N(1, 1, 2, 4, 4))),
        ["mse_loss mean"] = new(x => F.mse_loss(x[0], x[1]), () => T(N(1, 2, 3, 4), N(2, 2, 3, 4))),
        ["mse_loss sum"] = new(x => F.mse_loss(x[0], x[1], Reduction.Sum), () => T(N(1, 2, 3, 4), N(2, 2, 3, 4))),
        ["mse_loss none"] = new(x => F.mse_loss(x[0], x[1], Reduction.None), () => T(N(1, 2, 3), N(2, 2, 3))),
        ["cross_entropy"] = new(x => { using var target = torch.from_array(new long[] { 0, 4, 2, 1 }, 4); return F.cross_entropy(x[0], target); },
            () => T(N(1, 4, 5))),
        ["log_softmax"] = new(x => F.log_softmax(x[0], 1), () => T(N(1, 3, 5))),
        ["softmax"] = new(x => F.softmax(x[0], -1), () => T(N(1, 3, 5))),
        // custom functions, in the region where they are smooth (the kinks are tested on their own below)
        ["lower_bound above the bound"] = new(x => ops.lower_bound(x[0], -3.0), () => T(N(1, 3, 4))),
        // a composite: the GDN nonlinearity x / sqrt(beta + conv1x1(x^2, gamma)) of learned codecs
        ["GDN composite"] = new(x => x[0] * F.conv2d(x[0].square(), x[1].abs(), x[2].abs() + 0.1).rsqrt(),
            () => T(N(1, 1, 3, 4, 4), N(2, 3, 3, 1, 1), N(3, 3))),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Autograd_gradient_matches_central_finite_differences(string op)
    {
        var c = Cases[op];
        using var scope = torch.NewDisposeScope();
        GradCheck.AssertMatchesFiniteDifferences(c.F, c.Inputs());
    }

    [Fact]
    public void The_finite_difference_check_detects_a_wrong_gradient()
    {
        // round_ste's identity gradient is deliberately not the derivative of round (0 almost everywhere).
        using var scope = torch.NewDisposeScope();
        GradCheck.Mismatches(x => ops.round_ste(x[0]), Inputs.Uniform(1, -2, 2, 3, 4)).Should().HaveCount(12);
    }

    [Fact]
    public void Lower_bound_forward_is_the_maximum_of_x_and_the_bound()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Of([-2, -0.5, 0.1, 0.3, 1.5]);
        ops.lower_bound(x, 0.1).data<double>().Should().Equal(0.1, 0.1, 0.1, 0.3, 1.5);
    }

    [Fact]
    public void Lower_bound_passes_the_gradient_where_x_is_at_or_above_the_bound_whatever_its_sign()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Of([0.1, 0.5, 2.0, 0.1, 0.5, 2.0]).requires_grad_();
        var g = Inputs.Of([1.5, 2.5, 3.5, -1.5, -2.5, -3.5]);
        ops.lower_bound(x, 0.1).backward(g);
        x.grad!.data<double>().Should().Equal(1.5, 2.5, 3.5, -1.5, -2.5, -3.5);
    }

    [Fact]
    public void Lower_bound_below_the_bound_blocks_a_positive_gradient_and_passes_a_negative_one()
    {
        // A negative gradient means descent pushes x up, back above the bound: it must pass so x can recover.
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Of([-1.0, 0.0, 0.05, -1.0, 0.0, 0.05]).requires_grad_();
        var g = Inputs.Of([1.0, 2.0, 3.0, -1.0, -2.0, -3.0]);
        ops.lower_bound(x, 0.1).backward(g);
        x.grad!.data<double>().Should().Equal(0.0, 0.0, 0.0, -1.0, -2.0, -3.0);
    }

    [Fact]
    public void Lower_bound_gradient_differs_from_plain_clamp_below_the_bound()
    {
        using var scope = torch.NewDisposeScope();
        var a = Inputs.Of([-1.0]).requires_grad_();
        var b = Inputs.Of([-1.0]).requires_grad_();
        (ops.lower_bound(a, 0.0) * -1.0).sum().backward();
        (a.grad!.item()).Should().Be(-1.0);
        (b.clamp_min(0.0) * -1.0).sum().backward();
        (b.grad!.item()).Should().Be(0.0);
    }

    [Fact]
    public void Round_ste_rounds_forward_and_passes_the_gradient_unchanged()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Of([-1.7, -0.2, 0.4, 0.6, 2.49]).requires_grad_();
        var y = ops.round_ste(x);
        y.data<double>().Should().Equal(-2, 0, 0, 1, 2);
        var g = Inputs.Of([0.5, -1, 2, 3, -4]);
        y.backward(g);
        x.grad!.data<double>().Should().Equal(0.5, -1, 2, 3, -4);
    }

    [Fact]
    public void Round_ste_rounds_half_to_even_like_torch_round()
    {
        using var scope = torch.NewDisposeScope();
        ops.round_ste(Inputs.Of([0.5, 1.5, 2.5, -0.5])).data<double>().Should().Equal(0, 2, 2, -0);
    }
}
