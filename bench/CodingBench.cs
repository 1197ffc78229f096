using System.Text.Json.Nodes;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Torch;

namespace CoFUsfl.Bench;

/// <summary>
/// <c>cofusfl bench coding</c>: one transfer of the paper's CoF runs (<c>hocon/experiments/paper</c>: N = 32, batch 8,
/// crop 64, head 2 / tail 5, so [8, 32, 32, 32] at either split) through the codecs the simulation runs — adaptive
/// features (training rate included) and entropy-coded gradients — against float32, with the codec's own profile split
/// into quantization (torch, host copies, rounding) and coding (tables, rANS, wire form). Medians in ms.
/// </summary>
public sealed class CodingBench : IBenchmarkSuite
{
    public string Name => "coding";
    public string Description => "One CoF transfer of the paper runs ([8,32,32,32]): adaptive features and entropy gradients, encode/decode ms";

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator((ulong)options.Seed);
        long[] shape = [8, 32, 32, 32];
        var f = torch.randn(shape, g).requires_grad_();
        var grad = torch.randn(shape, g) * 1e-3;
        var (warmup, iterations) = options.Quick ? (2, 5) : (5, 20);
        var extra = new JsonObject { ["shape"] = "[8, 32, 32, 32]", ["threads"] = torch.get_num_threads() };

        using var model = new FeatureEntropyModel(32, 4.0, density: FeatureDensity.Adaptive);
        var profile = new WallProfile();
        var features = new AdaptiveFeatures(model) { Noise = g, Profile = profile };
        var gradients = GradientCodec.Create("entropy", 1.0, new Random(options.Seed), 1.0);
        gradients.Profile = profile;
        var float32 = GradientCodec.Create("float32", 1.0, new Random(options.Seed));

        EncodedTensor featureWire = null!, gradientWire = null!, floatWire = null!;
        double Run(Action body) => Measure.MedianMs(() =>
        {
            using var s = DisposeScope.Open();
            body();
        }, warmup, iterations);
        var featEnc = Run(() => featureWire = features.Encode(f, training: true).Wire);
        var calls = warmup + iterations;
        double PerCall(ProfilePart p) => 1e3 * profile.Seconds(p) / calls;
        var (featQuantize, featCoding) = (PerCall(ProfilePart.FeatureQuantize), PerCall(ProfilePart.FeatureEncode));
        // The training rate's backward pass (the sender's graph through the Laplacian fit), beside the encoding it follows.
        var featEncBackward = Run(() => features.Encode(f, training: true).Bits!.backward());
        var featDec = Run(() => FeatureCodec.Decode(featureWire, _ => null, "bench"));
        var gradEnc = Run(() => gradientWire = gradients.Encode(grad));
        var gradDec = Run(() => GradientCodec.Decode(gradientWire, "bench"));
        var floatEnc = Run(() => floatWire = float32.Encode(grad));
        var floatDec = Run(() => GradientCodec.Decode(floatWire, "bench"));

        // The adaptive coder alone on those symbols (histograms, tables, rANS strings), and its decoder.
        var symbols = CoFUsfl.Models.EntropyModels.EntropyModel.symbols((f * model.gain()).detach());
        var code = CoFUsfl.Models.Coding.AdaptiveCoder.Encode(symbols, 8, 32);
        var coderEnc = Run(() => CoFUsfl.Models.Coding.AdaptiveCoder.Encode(symbols, 8, 32));
        var strings = code.Strings.Select(x => (ReadOnlyMemory<byte>)x).ToList();
        var coderDec = Run(() => CoFUsfl.Models.Coding.AdaptiveCoder.Decode(code.Tables, strings, 32, 32 * 32));
        yield return new BenchResult(Name, "adaptive_coder_encode_ms", coderEnc, "ms");
        yield return new BenchResult(Name, "adaptive_coder_decode_ms", coderDec, "ms");
        yield return new BenchResult(Name, "adaptive_features_encode_ms", featEnc, "ms", (JsonObject)extra.DeepClone());
        yield return new BenchResult(Name, "adaptive_features_encode_quantize_ms", featQuantize, "ms (mean of the codec's profile)");
        yield return new BenchResult(Name, "adaptive_features_encode_coding_ms", featCoding, "ms (mean of the codec's profile)");
        yield return new BenchResult(Name, "adaptive_features_rate_backward_ms", featEncBackward - featEnc, "ms");
        yield return new BenchResult(Name, "adaptive_features_decode_ms", featDec, "ms");
        yield return new BenchResult(Name, "entropy_gradient_encode_ms", gradEnc, "ms");
        yield return new BenchResult(Name, "entropy_gradient_encode_quantize_ms", PerCall(ProfilePart.GradientQuantize), "ms (mean of the codec's profile)");
        yield return new BenchResult(Name, "entropy_gradient_decode_ms", gradDec, "ms");
        yield return new BenchResult(Name, "float32_encode_ms", floatEnc, "ms");
        yield return new BenchResult(Name, "float32_decode_ms", floatDec, "ms");
    }
}
