using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Torch;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Tests;

/// <summary>The forward-adaptive feature codec and the entropy gradient codec: exact round trips, rates, bias, malformed input.</summary>
public class AdaptiveCodecSpecs
{
    private static Tensor Laplace(Generator g, long[] shape, double scale)
    {
        // Inverse CDF of a Laplacian from uniforms: -b·sign(u)·ln(1 − 2|u|).
        var u = torch.uniform(shape, -0.5, 0.5, g);
        return u.sign().neg() * (1.0 - u.abs() * 2.0).log() * scale;
    }

    [Theory]
    [InlineData("gaussian", 0.3)]
    [InlineData("gaussian", 2.0)]
    [InlineData("laplace", 0.3)]
    [InlineData("laplace", 2.0)]
    public void The_adaptive_features_rate_matches_the_empirical_entropy_of_what_is_sent(string kind, double spread)
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator(5);
        long[] shape = [4, 8, 32, 32];
        var f = kind == "gaussian" ? torch.randn(shape, g) * spread : Laplace(g, shape, spread);
        using var model = new FeatureEntropyModel(8, 1.0, density: FeatureDensity.Adaptive);
        var codec = new AdaptiveFeatures(model) { NoiseQuantization = false };
        var enc = codec.Encode(f, training: true);
        var s = enc.Stats!.Value;
        // Bits written are the coder's estimate (within 1 %) and within 5 % of the empirical entropy (side information included).
        s.BitsWritten.Should().BeApproximately(s.BitsEstimated, 0.01 * s.BitsEstimated);
        s.BitsWritten.Should().BeLessThan(1.05 * s.EntropyBits);
        // The differentiable training rate (a Laplacian fitted to the batch) tracks the empirical entropy from the first step.
        var estimate = enc.Bits!.item();
        estimate.Should().BeInRange(0.95 * s.EntropyBits, 1.05 * s.EntropyBits);
        // The receiver decodes exactly what the sender's data path holds.
        var decoded = FeatureCodec.Decode(enc.Wire.Clone(), _ => null, "split-1 features of c, round 1, step 0");
        decoded.sub(enc.DataPath.detach()).abs().max().item().Should().Be(0);
    }

    [Fact]
    public void A_larger_gain_costs_more_bits_and_rounds_finer()
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator(6);
        var f = torch.randn([2, 4, 16, 16], g);
        double Bits(double gain)
        {
            using var m = new FeatureEntropyModel(4, gain, density: FeatureDensity.Adaptive);
            return new AdaptiveFeatures(m).Encode(f, training: false).Stats!.Value.BitsWritten;
        }
        Bits(0.5).Should().BeLessThan(Bits(4)).And.BeLessThan(Bits(32));
    }

    [Fact]
    public void The_training_rate_is_differentiable_and_pulls_towards_fewer_bits()
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator(8);
        var f = (torch.randn([2, 4, 8, 8], g) * 3.0).requires_grad_();
        using var m = new FeatureEntropyModel(4, 1.0, density: FeatureDensity.Adaptive);
        var codec = new AdaptiveFeatures(m) { Noise = g };
        var bits = codec.Encode(f, training: true).Bits!;
        bits.backward();
        // Moving every value a little towards its channel mean lowers the estimate.
        var grad = f.grad!;
        m.log_gain.grad!.abs().sum().item().Should().BeGreaterThan(0, "the gain learns from the rate");
        var after = new AdaptiveFeatures(m) { NoiseQuantization = false }.Encode((f.detach() - grad * 0.01), training: true).Bits!.item();
        var before = new AdaptiveFeatures(m) { NoiseQuantization = false }.Encode(f.detach(), training: true).Bits!.item();
        after.Should().BeLessThan(before);
    }

    [Fact]
    public void The_entropy_gradient_codec_round_trips_what_it_quantized_and_reports_its_bits()
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator(9);
        var grad = torch.randn([2, 6, 32, 32], g) * 1e-4;
        var codec = new EntropyGradient(1.0, new Random(1));
        var wire = codec.Encode(grad);
        var decoded = GradientCodec.Decode(wire, "split-2 gradient of c, round 1, step 0");
        // Every value is an integer multiple of its channel's step, within one step of the original.
        var steps = torch.from_array(wire.Step.ToArray(), 1, 6, 1, 1);
        var q = decoded / steps;
        (q - q.round()).abs().max().item().Should().BeLessThan(1e-3);
        ((decoded - grad).abs() / steps).max().item().Should().BeLessThan(1.0 + 1e-4);
        var s = codec.LastStats!.Value;
        s.BytesWritten.Should().Be(wire.Tables.Length + wire.Strings.Sum(x => x.Length));
        s.BitsWritten.Should().BeApproximately(s.BitsEstimated, 0.01 * s.BitsEstimated);
        (s.BitsWritten / s.Symbols).Should().BeLessThan(3.5, "a step of one RMS leaves few distinct values");
        // Re-encoding the decoded gradient with the same steps gives the same integers back: the codec is exact on its grid.
        AdaptiveRoundTrip(decoded, wire);
    }

    private static void AdaptiveRoundTrip(Tensor decoded, EncodedTensor wire)
    {
        var again = GradientCodec.Decode(wire.Clone(), "again");
        again.sub(decoded).abs().max().item().Should().Be(0);
    }

    [Fact]
    public void Stochastic_rounding_is_unbiased()
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator(10);
        var grad = torch.randn([1, 2, 8, 8], g);
        var sum = torch.zeros([1, 2, 8, 8]);
        const int trials = 400;
        var codec = new EntropyGradient(2.0, new Random(2));
        for (var i = 0; i < trials; i++) sum = sum + GradientCodec.Decode(codec.Encode(grad), "g");
        var mean = sum / trials;
        // Step 2·RMS ≈ 2: each trial's error has variance ≤ step²/4 = 1, so the mean of 400 is within 5σ = 0.25 everywhere.
        (mean - grad).abs().max().item().Should().BeLessThan(0.25);
        (mean - grad).mean().abs().item().Should().BeLessThan(0.03);
    }

    public static TheoryData<string, Action<EncodedTensor>, string> Malformed => new()
    {
        { "truncated string", e => e.Strings[0] = ByteString.CopyFrom(e.Strings[0].Span[..^5]), "*" },
        { "missing string", e => e.Strings.RemoveAt(1), "*string*" },
        { "wrong shape", e => e.Shape[1] = 5, "*steps for 5 channels*" },
        { "negative size", e => e.Shape[2] = -16, "*negative size*" },
        { "huge claimed shape", e => { e.Shape[2] = 1L << 40; e.Shape[3] = 1L << 40; }, "*claims more than 268435456 elements*" },
        { "NaN step", e => e.Step[3] = float.NaN, "*step NaN of channel 3*" },
        { "zero step", e => e.Step[0] = 0, "*step 0 of channel 0*" },
        { "tables cut", e => e.Tables = ByteString.CopyFrom(e.Tables.Span[..^2]), "*" },
        { "no tables", e => e.Tables = ByteString.Empty, "*tables*" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_entropy_gradient_is_rejected_naming_client_round_and_transfer(string what, Action<EncodedTensor> damage, string message)
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator(11);
        var wire = new EntropyGradient(1.0, new Random(3)).Encode(torch.randn([2, 6, 16, 16], g));
        damage(wire);
        const string where = "split-2 gradient of client-0003, round 4, step 2";
        var act = () => GradientCodec.Decode(wire, where);
        // A truncated string may still decode (to wrong values) when only padding was cut; everything else is refused.
        if (what == "truncated string")
        {
            try { act(); } catch (InvalidDataException e) { e.Message.Should().StartWith(where); }
            return;
        }
        act.Should().Throw<InvalidDataException>().WithMessage(where + "*").WithMessage(message);
    }

    [Theory]
    [InlineData(TensorCodec.Float32)]
    [InlineData(TensorCodec.Topk)]
    [InlineData(TensorCodec.Int8)]
    [InlineData(TensorCodec.Float16)]
    public void A_few_bytes_claiming_a_huge_or_overflowing_shape_are_refused_before_anything_is_allocated(TensorCodec codec)
    {
        const string where = "split-1 gradient of client-0001, round 1, step 1";
        foreach (var shape in new[] { new long[] { 1L << 20, 1L << 20 }, new long[] { 1L << 32, 1L << 32, 4 } }) // 2^40 elements; 2^66 wraps to 0
        {
            var e = new EncodedTensor { Codec = codec, Data = ByteString.CopyFrom(1, 2, 3, 4) };
            e.Shape.AddRange(shape);
            FluentActions.Invoking(() => GradientCodec.Decode(e, where)).Should().Throw<InvalidDataException>().WithMessage(where + "*claims more than*");
        }
    }

    [Fact]
    public void A_NaN_gradient_is_refused_by_the_sender()
    {
        using var scope = DisposeScope.Open();
        var v = new float[2 * 2 * 4];
        v[5] = float.NaN;
        var act = () => new EntropyGradient(1.0, new Random(1)).Encode(torch.from_array(v, 2, 2, 2, 2));
        act.Should().Throw<ArithmeticException>().WithMessage("*not finite*");
    }

    [Fact]
    public void Top_k_keeps_no_residual_between_messages()
    {
        using var scope = DisposeScope.Open();
        var codec = new TopKGradient(0.25);
        var a = torch.from_array(new float[] { 4, 1, 1, 1, 1, 1, 1, 1 }, 1, 1, 2, 4);
        var b = torch.from_array(new float[] { 0, 0, 0, 0, 0, 0, 0, 2 }, 1, 1, 2, 4);
        GradientCodec.Decode(codec.Encode(a), "a").data<float>().Should().Equal(4, 1, 0, 0, 0, 0, 0, 0);
        // With error feedback the seven 1s of a would have been added to b, a batch of other images.
        GradientCodec.Decode(codec.Encode(b), "b").data<float>().Should().Equal(0, 0, 0, 0, 0, 0, 0, 2);
    }

    [Fact]
    public void Adaptive_runs_report_bits_written_against_estimate_and_entropy_for_every_transfer_and_are_deterministic()
    {
        SimulationOptions Options() => SimulationSpecs.Small("adaptive", rounds: 2) with
        {
            Split = new SplitOptions
            {
                Head = 2, Tail = 5, Features = new FeatureCodecOptions { Uplink = "adaptive", Downlink = "adaptive" },
                Gradients = new GradientCodecOptions { Uplink = "entropy", Downlink = "entropy" },
            },
            Loss = new LossOptions { Lambda = 0.013, Beta = 1.0 },
            // Messages of 65k symbols: the side information (a few bytes per channel) is then a few % of the payload.
            Data = new DataOptions { Train = ["synthetic"], Crop = 128, BatchSize = 2 },
        };
        var a = SimulationSpecs.Run(Options());
        var b = SimulationSpecs.Run(Options());
        a.Summary["final_model_hash"]!.GetValue<string>().Should().Be(b.Summary["final_model_hash"]!.GetValue<string>());
        foreach (var round in a.Rounds)
            foreach (var t in new[] { "transfer1_features_up", "transfer2_features_down", "transfer3_gradient_up", "transfer4_gradient_down" })
            {
                var c = round["coding"]![t]!;
                // Tiny messages here (a few KB): rANS's 32-bit words add up to 1 % more; the experiments' messages are far larger.
                c["written_over_estimated"]!.GetValue<double>().Should().BeInRange(0.99, 1.02, t);
                c["written_over_entropy"]!.GetValue<double>().Should().BeInRange(0.999, 1.10, $"{t}: within 10 % of the ideal from round 1");
                // The coder's bytes are inside the transfer's envelopes.
                c["bytes_written"]!.GetValue<long>().Should().BeLessThan(round["bytes"]![t]!.GetValue<long>());
            }
        var plain = SimulationSpecs.Run(SimulationSpecs.Small("float32", rounds: 2) with { Data = Options().Data });
        long All(Runner.RunOutcome r) => r.Summary["bytes_transfers"]!.GetValue<long>();
        All(a).Should().BeLessThan(All(plain) / 8, "entropy-coded features and gradients against float32");
    }
}
