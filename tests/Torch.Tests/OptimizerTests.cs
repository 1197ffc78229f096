using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Torch.Tests;

/// <summary>Optimizers against PyTorch's update formulas, recomputed here in C# doubles.</summary>
public class OptimizerTests
{
    private static readonly double[] P0 = [1.0, -2.0, 0.5];
    private static readonly double[] C = [0.5, 1.5, 3.0];
    private static readonly double[] D = [0.1, -0.2, 0.3];

    /// <summary>loss = Σ c·p² + d·p, so ∂loss/∂p = 2cp + d.</summary>
    private static void Backward(Tensor p)
    {
        using var s = torch.NewDisposeScope();
        var c = Inputs.Of(C);
        var d = Inputs.Of(D);
        (c * p * p + d * p).sum().backward();
    }

    private static double Grad(double[] p, int i) => 2 * C[i] * p[i] + D[i];

    private static void ShouldBeClose(double[] actual, double[] expected, string because)
    {
        actual.Should().HaveCount(expected.Length);
        for (var i = 0; i < expected.Length; i++)
            actual[i].Should().BeApproximately(expected[i], 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"{because}, element {i}");
    }

    [Theory]
    [InlineData(0.1, 0.9, 0.999, 1e-8, 0.0)]
    [InlineData(0.05, 0.8, 0.99, 1e-3, 0.1)]
    public void Adam_follows_PyTorchs_update_with_bias_correction_and_L2_weight_decay(double lr, double b1, double b2, double eps, double wd)
    {
        using var p = Inputs.Of(P0).requires_grad_();
        using var opt = new Adam([p], lr, b1, b2, eps, wd);
        var e = (double[])P0.Clone();
        var m = new double[3];
        var v = new double[3];
        for (var t = 1; t <= 5; t++)
        {
            opt.zero_grad();
            Backward(p);
            opt.step();
            for (var i = 0; i < 3; i++)
            {
                var g = Grad(e, i) + wd * e[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                var mhat = m[i] / (1 - Math.Pow(b1, t));
                var denom = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps;
                e[i] -= lr * mhat / denom;
            }
            ShouldBeClose(p.data<double>(), e, $"after step {t}");
        }
        opt.StepCount.Should().Be(5);
        p.data<double>().Should().NotEqual(P0);
    }

    [Theory]
    [InlineData(0.1, 0.0, 0.0, 0.0, false)]
    [InlineData(0.1, 0.9, 0.0, 0.01, true)]
    [InlineData(0.05, 0.9, 0.1, 0.0, false)]
    [InlineData(0.05, 0.5, 0.0, 0.2, false)]
    public void SGD_follows_PyTorchs_momentum_dampening_nesterov_and_weight_decay(double lr, double mom, double damp, double wd, bool nesterov)
    {
        using var p = Inputs.Of(P0).requires_grad_();
        using var opt = new SGD([p], lr, mom, damp, wd, nesterov);
        var e = (double[])P0.Clone();
        var buf = new double[3];
        for (var t = 1; t <= 5; t++)
        {
            opt.zero_grad();
            Backward(p);
            opt.step();
            for (var i = 0; i < 3; i++)
            {
                var g = Grad(e, i) + wd * e[i];
                if (mom != 0)
                {
                    buf[i] = t == 1 ? g : mom * buf[i] + (1 - damp) * g;
                    g = nesterov ? g + mom * buf[i] : buf[i];
                }
                e[i] -= lr * g;
            }
            ShouldBeClose(p.data<double>(), e, $"after step {t}");
        }
    }

    [Fact]
    public void Invalid_hyper_parameters_are_rejected()
    {
        using var p = Inputs.Of(P0).requires_grad_();
        ((Action)(() => new Adam([p], beta1: 1.0))).Should().Throw<ArgumentException>().WithMessage("*betas=(1*");
        ((Action)(() => new SGD([p], 0.1, momentum: 0, nesterov: true))).Should().Throw<ArgumentException>().WithMessage("*nesterov*");
    }

    [Fact]
    public void A_parameter_without_a_gradient_is_left_untouched()
    {
        using var p = Inputs.Of(P0).requires_grad_();
        using var q = Inputs.Of(P0).requires_grad_();
        using var opt = new Adam([p, q], 0.1);
        Backward(p);
        opt.step();
        q.data<double>().Should().Equal(P0);
        p.data<double>().Should().NotEqual(P0);
    }

    [Fact]
    public void Adam_resumed_from_its_state_dict_continues_exactly_like_an_uninterrupted_run()
    {
        using var a = Inputs.Of(P0).requires_grad_();
        using var b = Inputs.Of(P0).requires_grad_();
        using var optA = new Adam([a], 0.1);
        using var optB = new Adam([b], 0.1);
        for (var t = 0; t < 3; t++) { optA.zero_grad(); Backward(a); optA.step(); }
        b.copy_(a);
        var state = optA.state_dict();
        optB.load_state_dict(state);
        optB.StepCount.Should().Be(3);
        for (var t = 0; t < 3; t++)
        {
            optA.zero_grad(); Backward(a); optA.step();
            optB.zero_grad(); Backward(b); optB.step();
        }
        b.equal(a).Should().BeTrue();
        state["step"].Dispose();
    }

    [Fact]
    public void Clip_grad_norm_scales_gradients_to_the_max_norm_and_returns_the_norm_before_clipping()
    {
        using var s = torch.NewDisposeScope();
        var a = Inputs.Of([0.0, 0.0]).requires_grad_();
        var b = Inputs.Of([0.0]).requires_grad_();
        a.grad = Inputs.Of([3.0, 0.0]);
        b.grad = Inputs.Of([4.0]);
        GradClip.clip_grad_norm_([a, b], 1.0).Should().BeApproximately(5.0, 1e-12);
        var k = 1.0 / (5.0 + 1e-6);
        ShouldBeClose(a.grad!.data<double>(), [3 * k, 0], "a's gradient scaled");
        ShouldBeClose(b.grad!.data<double>(), [4 * k], "b's gradient scaled");
        Math.Sqrt(Math.Pow(a.grad!.data<double>()[0], 2) + Math.Pow(b.grad!.data<double>()[0], 2)).Should().BeApproximately(1.0, 1e-6);
    }

    [Fact]
    public void Clip_grad_norm_leaves_gradients_below_the_max_norm_unchanged()
    {
        using var s = torch.NewDisposeScope();
        var a = Inputs.Of([0.0, 0.0]).requires_grad_();
        a.grad = Inputs.Of([0.3, 0.4]);
        GradClip.clip_grad_norm_([a], 1.0).Should().BeApproximately(0.5, 1e-12);
        a.grad!.data<double>().Should().Equal(0.3, 0.4);
    }
}
