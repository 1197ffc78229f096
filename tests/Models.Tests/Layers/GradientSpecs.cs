using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Models.Layers;
using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;
using CoFUsfl.Torch.Tests;

namespace CoFUsfl.Models.Tests.Layers;

/// <summary>Gradients of GDN and of both entropy models' likelihoods against central finite differences, in float64.</summary>
public class GradientSpecs
{
    /// <summary>d loss / d parameter by autograd and by central differences, at a few elements of the parameter.</summary>
    private static void AssertParameterGradient(Module module, string name, Func<Tensor> loss, int elements = 6)
    {
        var p = module.named_parameters().Single(x => x.name == name).parameter;
        module.zero_grad();
        using (var s = torch.NewDisposeScope()) loss().backward();
        var analytic = p.grad!.data<double>();
        var values = p.data<double>();
        var shape = p.shape;
        var rng = new Random(5);
        for (var k = 0; k < elements; k++)
        {
            var j = rng.Next(values.Length);
            double Eval(double v)
            {
                var copy = (double[])values.Clone();
                copy[j] = v;
                using var s = torch.NewDisposeScope();
                using var ng = torch.no_grad();
                p.copy_(torch.from_array(copy, shape));
                return loss().item();
            }
            var numeric = (Eval(values[j] + GradCheck.Eps) - Eval(values[j] - GradCheck.Eps)) / (2 * GradCheck.Eps);
            using (var s = torch.NewDisposeScope())
            using (var ng = torch.no_grad()) p.copy_(torch.from_array(values, shape));
            analytic[j].Should().BeApproximately(numeric, 1e-6 + 1e-5 * Math.Abs(numeric), $"{name}[{j}]");
        }
    }

    private static Tensor Weights(Tensor like)
    {
        using var g = new Generator(99);
        return torch.randn_like(like, g);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GDN_gradients_match_finite_differences(bool inverse)
    {
        using var gdn = new GDN(4, inverse);
        gdn.to(ScalarType.Float64);
        using (var ng = torch.no_grad())
        using (var s = torch.NewDisposeScope())
        {
            // Move off the initial identity so every entry of gamma matters.
            gdn.gamma.add_(Inputs.Uniform(3, 0.05, 0.3, 4, 4));
            gdn.beta.add_(Inputs.Uniform(4, 0.0, 0.5, 4));
        }
        GradCheck.AssertMatchesFiniteDifferences(x => gdn.forward(x[0]), Inputs.Normal(1, 2, 4, 3, 3));
        var input = Inputs.Normal(2, 2, 4, 3, 3);
        var w = Weights(gdn.forward(input).detach());
        AssertParameterGradient(gdn, "beta", () => (gdn.forward(input) * w).sum());
        AssertParameterGradient(gdn, "gamma", () => (gdn.forward(input) * w).sum());
    }

    [Fact]
    public void EntropyBottleneck_likelihood_gradients_match_finite_differences()
    {
        using var g = new Generator(8);
        using var eb = new EntropyBottleneck(3, generator: g);
        eb.to(ScalarType.Float64);
        using (var ng = torch.no_grad())
        using (var s = torch.NewDisposeScope())
            foreach (var (n, p) in eb.named_parameters().Where(p => p.name.StartsWith("_factor", StringComparison.Ordinal)))
                p.add_(Inputs.Uniform(7, -0.5, 0.5, p.shape));
        // likelihood() takes [C, 1, n] values.
        GradCheck.AssertMatchesFiniteDifferences(x => eb.likelihood(x[0]), Inputs.Uniform(1, -4, 4, 3, 1, 5));
        var values = Inputs.Uniform(2, -4, 4, 3, 1, 5);
        var w = Weights(eb.likelihood(values).detach());
        foreach (var name in new[] { "_matrix0", "_matrix2", "_bias1", "_factor0", "_bias4", "_matrix4" })
            AssertParameterGradient(eb, name, () => (eb.likelihood(values) * w).sum());
    }

    [Fact]
    public void GaussianConditional_likelihood_gradients_match_finite_differences()
    {
        using var gc = new GaussianConditional();
        gc.to(ScalarType.Float64);
        // Scales kept above the 0.11 bound, where the gradient is the smooth one.
        GradCheck.AssertMatchesFiniteDifferences(x => gc.likelihood(x[0], x[1], x[2]),
            Inputs.Uniform(1, -3, 3, 2, 3, 4), Inputs.Uniform(2, 0.3, 3, 2, 3, 4), Inputs.Uniform(3, -1, 1, 2, 3, 4));
    }
}
