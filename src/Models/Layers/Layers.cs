using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Models.Layers;

#pragma warning disable CS8981, IDE1006

/// <summary>CompressAI's ops.LowerBound as a module (buffer <c>bound</c>, so state dicts map one to one).</summary>
public sealed class LowerBound : Module<Tensor, Tensor>
{
    public double Bound { get; }

    public LowerBound(double bound)
    {
        Bound = bound;
        RegisterBuffer("bound", torch.from_array(new[] { (float)bound }, 1));
    }

    public override Tensor forward(Tensor x) => ops.lower_bound(x, Bound);
}

/// <summary>CompressAI's NonNegativeParametrizer: stores √(x + pedestal), returns max(v, bound)² − pedestal.</summary>
public sealed class NonNegativeParametrizer : Module<Tensor, Tensor>
{
    private readonly double pedestal;
    private readonly LowerBound lowerBound;

    public NonNegativeParametrizer(double minimum = 0, double reparamOffset = 1.0 / (1 << 18))
    {
        pedestal = reparamOffset * reparamOffset;
        RegisterBuffer("pedestal", torch.from_array(new[] { (float)pedestal }, 1));
        lowerBound = RegisterModule("lower_bound", new LowerBound(Math.Sqrt(minimum + pedestal)));
    }

    /// <summary>The stored value that parametrizes <paramref name="x"/>.</summary>
    public Tensor init(Tensor x)
    {
        using var p = torch.full_like(x, pedestal);
        using var s = x + pedestal;
        using var m = s.maximum(p);
        return m.sqrt();
    }

    public override Tensor forward(Tensor x)
    {
        var b = lowerBound.forward(x);
        return b * b - pedestal;
    }
}

/// <summary>Generalized divisive normalization (Ballé et al.): y = x / √(β + γ·x²); inverse: x · √(β + γ·x²).</summary>
public sealed class GDN : Module<Tensor, Tensor>
{
    public readonly Tensor beta, gamma;
    private readonly NonNegativeParametrizer betaReparam, gammaReparam;
    public bool Inverse { get; }
    public long Channels { get; }

    public GDN(long channels, bool inverse = false, double betaMin = 1e-6, double gammaInit = 0.1)
    {
        Inverse = inverse;
        Channels = channels;
        betaReparam = RegisterModule("beta_reparam", new NonNegativeParametrizer(betaMin));
        gammaReparam = RegisterModule("gamma_reparam", new NonNegativeParametrizer());
        using (var ones = torch.ones([channels])) beta = RegisterParameter("beta", betaReparam.init(ones));
        var eye = new float[channels * channels];
        for (var i = 0; i < channels; i++) eye[i * channels + i] = (float)gammaInit;
        using (var g = torch.from_array(eye, channels, channels)) gamma = RegisterParameter("gamma", gammaReparam.init(g));
    }

    public override Tensor forward(Tensor x)
    {
        var b = betaReparam.forward(beta);
        var g = gammaReparam.forward(gamma).reshape(Channels, Channels, 1, 1);
        var norm = F.conv2d(x * x, g, b);
        return x * (Inverse ? norm.sqrt() : norm.rsqrt());
    }
}

/// <summary>The convolution helpers of CompressAI's models.</summary>
public static class Conv
{
    /// <summary>conv(in, out, k=5, s=2): padding k/2.</summary>
    public static Conv2d conv(long inCh, long outCh, long kernelSize = 5, long stride = 2, Generator? g = null) =>
        new(inCh, outCh, kernelSize, stride, kernelSize / 2, generator: g);

    /// <summary>deconv(in, out, k=5, s=2): padding k/2, output padding s−1, so each stage exactly doubles H and W.</summary>
    public static ConvTranspose2d deconv(long inCh, long outCh, long kernelSize = 5, long stride = 2, Generator? g = null) =>
        new(inCh, outCh, kernelSize, stride, kernelSize / 2, stride - 1, generator: g);

    public static Lambda ReLU() => new("ReLU", x => x.relu());
    public static Lambda LeakyReLU(double slope = 0.01) => new("LeakyReLU", x => x.leaky_relu(slope));
}
