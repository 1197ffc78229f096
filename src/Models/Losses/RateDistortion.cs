using CoFUsfl.Torch;

namespace CoFUsfl.Models.Losses;

/// <summary>
/// The rate–distortion loss of CompressAI's <c>RateDistortionLoss</c>, with the split features' rate of CoF U-SFL:
/// L = λ·255²·MSE(x, x̂) + R_img/P + β·(R1 + R2)/P for images in [0, 1] (P pixels). The one place the weighting is
/// written: the split step, the codec trainer and the run recorder all use it.
/// </summary>
public static class RateDistortion
{
    /// <summary>λ·255²: the weight of the MSE of images in [0, 1] (the MSE of 8-bit values, weighted by λ).</summary>
    public static double DistortionWeight(double lambda) => lambda * 255 * 255;

    /// <summary>λ·255²·MSE as a differentiable term.</summary>
    public static Tensor DistortionTerm(Tensor mse, double lambda) => mse * DistortionWeight(lambda);

    /// <summary>λ·255²·MSE of a measured MSE.</summary>
    public static double DistortionTerm(double mse, double lambda) => mse * DistortionWeight(lambda);

    /// <summary>The whole loss from its measured parts (bits per pixel of the image's latents and of both split features).</summary>
    public static double Loss(double mse, double lambda, double bppImage, double beta, double bppFeatures) =>
        DistortionTerm(mse, lambda) + bppImage + beta * bppFeatures;
}
