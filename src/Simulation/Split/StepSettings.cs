using CoFUsfl.Simulation.Configuration;

namespace CoFUsfl.Simulation.Split;

/// <summary>
/// What the two halves of a split step need of a run's configuration: the loss weights, the codecs of the four
/// transfers, the training quantization and the batch geometry. Immutable; built once from the options.
/// </summary>
public sealed record StepSettings(
    double Lambda, double Beta, double ClipGradNorm, bool NoiseQuantization,
    string FeaturesUplink, string FeaturesDownlink, double GainInit,
    string GradientsUplink, string GradientsDownlink, double TopkRatio, double GradientStep,
    int BatchSize, int Crop, double AuxLr, double DistillWeight = 0)
{
    public static StepSettings From(SimulationOptions o) => new(
        o.Loss.Lambda, o.Loss.Beta, o.Training.ClipGradNorm, o.Training.Quantization != "ste",
        o.Split.Features.Uplink, o.Split.Features.Downlink, o.Split.Features.GainInit,
        o.Split.Gradients.Uplink, o.Split.Gradients.Downlink, o.Split.Gradients.TopkRatio, o.Split.Gradients.Step,
        o.Data.BatchSize, o.Data.Crop, o.Training.AuxLr, o.Training.Teacher.Length > 0 ? o.Training.DistillWeight : 0);

    /// <summary>P of the loss: pixels of one batch (the rate normalizer).</summary>
    public double Pixels => (double)BatchSize * Crop * Crop;

    public Protocol.FeatureDensity? UplinkDensity => Protocol.FeatureCodec.DensityOf(FeaturesUplink);
    public Protocol.FeatureDensity? DownlinkDensity => Protocol.FeatureCodec.DensityOf(FeaturesDownlink);

    public Models.EntropyModels.TrainingQuantization Quantization =>
        NoiseQuantization ? Models.EntropyModels.TrainingQuantization.Noise : Models.EntropyModels.TrainingQuantization.Ste;
}
