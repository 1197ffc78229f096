namespace CoFUsfl.Torch.Tests;

/// <summary>
/// Compares autograd's gradient with central finite differences in float64. The scalar that is
/// differentiated is sum(f(x) * w) for a fixed random w, so every output element gets its own weight
/// and a gradient that is wrong for one element only still shows.
/// </summary>
public static class GradCheck
{
    public const double Eps = 1e-6;
    public const double RelTol = 1e-5;
    public const double AbsTol = 1e-8;

    /// <summary>Analytic and numeric gradients of sum(f(inputs) * w), one array per input.</summary>
    public static (double[][] analytic, double[][] numeric) Gradients(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        using var scope = torch.NewDisposeScope();
        var values = inputs.Select(t => t.data<double>()).ToArray();
        var shapes = inputs.Select(t => t.shape).ToArray();

        Tensor[] Leaves(double[][] v, bool grad) =>
            v.Select((a, i) =>
            {
                var t = torch.from_array(a, shapes[i]);
                if (grad) t.requires_grad = true;
                return t;
            }).ToArray();

        var xs = Leaves(values, grad: true);
        var y = f(xs);
        y.dtype.Should().Be(ScalarType.Float64, "gradient checks run in float64");
        using var gen = new Generator(1234);
        var w = torch.randn_like(y, gen).detach();
        (y * w).sum().backward();
        var analytic = xs.Select(x => x.grad?.data<double>() ?? new double[x.numel()]).ToArray();

        double Loss(double[][] v)
        {
            using var s = torch.NewDisposeScope();
            using var ng = torch.no_grad();
            return (f(Leaves(v, grad: false)) * w).sum().item();
        }

        var numeric = new double[values.Length][];
        for (var i = 0; i < values.Length; i++)
        {
            numeric[i] = new double[values[i].Length];
            for (var j = 0; j < values[i].Length; j++)
            {
                var keep = values[i][j];
                values[i][j] = keep + Eps;
                var up = Loss(values);
                values[i][j] = keep - Eps;
                var down = Loss(values);
                values[i][j] = keep;
                numeric[i][j] = (up - down) / (2 * Eps);
            }
        }
        return (analytic, numeric);
    }

    /// <summary>Describes every element whose gradients differ beyond tolerance (empty when they agree).</summary>
    public static List<string> Mismatches(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        var (a, n) = Gradients(f, inputs);
        var bad = new List<string>();
        for (var i = 0; i < a.Length; i++)
            for (var j = 0; j < a[i].Length; j++)
            {
                var d = Math.Abs(a[i][j] - n[i][j]);
                if (d > AbsTol + RelTol * Math.Max(Math.Abs(a[i][j]), Math.Abs(n[i][j])) || double.IsNaN(a[i][j]) || double.IsNaN(n[i][j]))
                    bad.Add($"input {i} element {j}: autograd {a[i][j]:R}, finite difference {n[i][j]:R}");
            }
        return bad;
    }

    public static void AssertMatchesFiniteDifferences(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        var bad = Mismatches(f, inputs);
        bad.Should().BeEmpty("autograd must agree with central finite differences; first mismatches: {0}", string.Join("; ", bad.Take(5)));
    }
}

/// <summary>Float64 test inputs from a fixed seed, kept away from kinks where a finite difference is meaningless.</summary>
public static class Inputs
{
    public static Tensor Normal(int seed, params long[] shape)
    {
        using var g = new Generator((ulong)seed);
        return torch.randn(shape, g, ScalarType.Float64);
    }

    public static Tensor Uniform(int seed, double lo, double hi, params long[] shape)
    {
        using var g = new Generator((ulong)seed);
        return torch.uniform(shape, lo, hi, g, ScalarType.Float64);
    }

    /// <summary>|x| in [0.2, 1.5] with a random sign: no element within 0.2 of zero.</summary>
    public static Tensor AwayFromZero(int seed, params long[] shape)
    {
        using var s = torch.NewDisposeScope();
        using var g = new Generator((ulong)seed);
        var mag = torch.uniform(shape, 0.2, 1.5, g, ScalarType.Float64);
        var sign = torch.uniform(shape, -1, 1, g, ScalarType.Float64).sign();
        return (mag * sign).MoveToOuterDisposeScope();
    }

    public static Tensor Of(double[] values, params long[] shape) => torch.from_array(values, shape.Length == 0 ? [values.Length] : shape);
}
