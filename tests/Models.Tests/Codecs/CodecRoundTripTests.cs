using CoFUsfl.Models.Codecs;
using CoFUsfl.Torch;

namespace CoFUsfl.Models.Tests.Codecs;

public class CodecRoundTripTests
{
    public static TheoryData<string> ModelNames => new(CodecZoo.AllNames);

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Decompress_of_compress_equals_the_eval_forward_bit_for_bit(string name)
    {
        using var g = new Generator(7);
        using var model = CodecZoo.Create(name, 16, 24, g);
        model.eval();
        model.update();
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var x = torch.rand([2, 3, 64, 64], g);

        var forward = model.forward(x);
        var strings = model.compress(x);
        var decoded = model.decompress(strings);

        var expected = forward.XHat.clamp(0, 1);
        decoded.equal(expected).Should().BeTrue("the decoder must reproduce the encoder's ŷ exactly");
        strings.Strings.SelectMany(s => s).Should().OnlyContain(b => b.Length > 0);
    }

    [Fact]
    public void Split_quantization_rounds_the_split_features_per_channel_and_stays_bit_exact_between_encoder_and_decoder()
    {
        using var scope = torch.NewDisposeScope();
        var f = torch.from_array(new[] { 0.12f, -0.40f, 0.30f, 0.90f }, 1, 2, 1, 2);
        SplitQuantization.Round(f, [4f, 2f]).contiguous().data<float>().Should().Equal(0f, -0.5f, 0.5f, 1f);
        FluentActions.Invoking(() => SplitQuantization.Round(f, [1f])).Should().Throw<ArgumentException>().WithMessage("*1 gains for 2 channels*");

        using var g = new Generator(7);
        using var model = CodecZoo.Create("bmshj2018-hyperprior", 16, 24, g);
        model.eval();
        model.update();
        using var ng = torch.no_grad();
        var x = torch.rand([1, 3, 64, 64], g);
        var plain = model.decompress(model.compress(x));
        model.Split = new SplitQuantization(2, Enumerable.Repeat(2f, 16).ToArray(), 5, Enumerable.Repeat(2f, 16).ToArray());
        var strings = model.compress(x);
        var decoded = model.decompress(strings);
        decoded.equal(model.forward(x).XHat.clamp(0, 1)).Should().BeTrue("the decoder rounds f2 exactly as the eval forward does");
        decoded.equal(plain).Should().BeFalse("a coarse split rounding changes the reconstruction");
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Parameter_names_follow_CompressAI(string name)
    {
        using var model = CodecZoo.Create(name, 8, 12);
        var names = model.state_dict().Keys.ToHashSet();
        names.Should().Contain(["g_a.0.weight", "g_a.1.beta", "g_a.1.gamma", "g_s.6.bias", "entropy_bottleneck._matrix0", "entropy_bottleneck.quantiles"]);
        if (name != "bmshj2018-factorized") names.Should().Contain(["h_a.0.weight", "h_s.0.weight"]);
    }

    [Fact]
    public void Training_forward_has_likelihoods_in_0_1_and_a_differentiable_rate()
    {
        using var g = new Generator(3);
        using var model = new Bmshj2018Hyperprior(8, 12, g);
        model.NoiseGenerator = g;
        using var scope = torch.NewDisposeScope();
        var x = torch.rand([1, 3, 64, 64], g);
        var r = model.forward(x);
        var bits = r.Likelihoods.Values.Select(l => l.log2().sum().neg()).Aggregate((a, b) => a + b);
        var loss = F.mse_loss(r.XHat, x) * (0.01 * 255 * 255) + bits / (64.0 * 64);
        loss.backward();
        model.g_a[0].named_parameters().First().parameter.grad.Should().NotBeNull();
        r.Likelihoods["y"].max().item().Should().BeLessThanOrEqualTo(1.0);
        r.Likelihoods["y"].min().item().Should().BeGreaterThan(0);
        model.aux_loss().item().Should().BeGreaterThan(0);
    }
}
