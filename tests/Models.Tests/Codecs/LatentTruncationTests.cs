using CoFUsfl.Models.Codecs;
using CoFUsfl.Torch;

namespace CoFUsfl.Models.Tests.Codecs;

/// <summary>ŷ truncated to some of its channels at deployment (joint compression + classification, step 3).</summary>
public class LatentTruncationTests
{
    public static TheoryData<string> GaussianModels => new("bmshj2018-hyperprior", "mbt2018-mean");

    private static readonly int[] Kept = [0, 3, 4, 9, 15, 19];

    [Theory]
    [MemberData(nameof(GaussianModels))]
    public void A_truncated_bitstream_decodes_to_the_kept_channels_with_the_others_zero_and_costs_fewer_bytes(string name)
    {
        using var g = new Generator(11);
        using var model = CodecZoo.Create(name, 16, 20, g);
        model.eval();
        model.update();
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        // An untrained g_a gives |y| < 0.5 almost everywhere (nothing to code): widen its last layer so every channel costs bits.
        foreach (var (key, p) in model.named_parameters().Where(p => p.name.StartsWith("g_a.6.", StringComparison.Ordinal))) p.mul_(40);
        var x = torch.rand([1, 3, 128, 128], g);
        var y = model.analysis(x).contiguous().data<float>();

        var full = new CompressedImage(model.Name, 16, 20, 128, 128, model.compress(x)).ToBytes();
        var file = new CompressedImage(model.Name, 16, 20, 128, 128, model.compress(x, Kept)).ToBytes();
        var parsed = CompressedImage.Parse(file, "t.cfu");
        parsed.Strings.Kept.Should().Equal(Kept, "the container carries which channels it codes");
        file.Length.Should().BeLessThan(full.Length * 2 / 3, "14 of 20 channels are not coded at all");

        var yHat = model.decompress_latent(parsed.Strings);
        yHat.shape.Should().Equal(1, 20, 8, 8);
        var v = yHat.contiguous().data<float>();
        for (var c = 0; c < 20; c++)
            for (var i = 0; i < 64; i++)
            {
                var at = c * 64 + i;
                if (Kept.Contains(c)) Math.Abs(v[at] - y[at]).Should().BeLessThanOrEqualTo(0.5f + 1e-4f, $"channel {c} is coded: ŷ is y rounded (around its mean)");
                else v[at].Should().Be(0f, $"channel {c} is dropped");
            }
        if (name == "bmshj2018-hyperprior")
            for (var c = 0; c < 20; c++)
                if (Kept.Contains(c))
                    for (var i = 0; i < 64; i++) v[c * 64 + i].Should().Be(MathF.Round(y[c * 64 + i], MidpointRounding.ToEven), "without means ŷ = round(y)");
        var image = model.decompress(parsed.Strings);
        image.shape.Should().Equal(1, 3, 128, 128);
        model.decompress(CompressedImage.Parse(full, "f.cfu").Strings).equal(model.forward(x).XHat.clamp(0, 1)).Should().BeTrue("an untruncated file is the plain CFU1 bitstream");
        full.AsSpan(0, 4).ToArray().Should().Equal("CFU1"u8.ToArray());
        file.AsSpan(0, 4).ToArray().Should().Equal("CFU2"u8.ToArray());
    }

    [Fact]
    public void The_factorized_prior_refuses_truncation_and_bad_channel_lists_are_named()
    {
        using var g = new Generator(3);
        using var scope = torch.NewDisposeScope();
        using var factorized = CodecZoo.Create("bmshj2018-factorized", 8, 12, g);
        factorized.eval();
        factorized.update();
        var x = torch.rand([1, 3, 64, 64], g);
        FluentActions.Invoking(() => factorized.compress(x, [0, 1])).Should().Throw<NotSupportedException>().WithMessage("bmshj2018-factorized: channel truncation*");
        var masked = factorized.compress(x) with { Kept = [0, 1] }; // a CFU2 file naming the factorized model
        FluentActions.Invoking(() => factorized.decompress(masked)).Should().Throw<InvalidDataException>().WithMessage("bmshj2018-factorized: the bitstream codes a truncated latent*");
        using var hyper = CodecZoo.Create("bmshj2018-hyperprior", 8, 12, g);
        hyper.eval();
        hyper.update();
        FluentActions.Invoking(() => hyper.compress(x, [])).Should().Throw<ArgumentException>().WithMessage("*at least one of its 12 channels*");
        FluentActions.Invoking(() => hyper.compress(x, [3, 2])).Should().Throw<ArgumentException>().WithMessage("*ascending, distinct and in [0, 12)*2 at position 1*");
        FluentActions.Invoking(() => hyper.compress(x, [12])).Should().Throw<ArgumentException>().WithMessage("*got 12 at position 0*");
    }

    [Fact]
    public void A_malformed_channel_mask_is_refused_naming_the_file()
    {
        using var g = new Generator(5);
        using var model = CodecZoo.Create("bmshj2018-hyperprior", 8, 20, g);
        model.eval();
        model.update();
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var file = new CompressedImage(model.Name, 8, 20, 64, 64, model.compress(torch.rand([1, 3, 64, 64], g), [1, 2, 17])).ToBytes();
        var mask = 4 + 1 + model.Name.Length + 12; // magic, name, sizes
        file.AsSpan(mask, 3).ToArray().Should().Equal([0b110, 0, 0b10], "channels 1, 2 and 17 as bits");

        var none = (byte[])file.Clone();
        none.AsSpan(mask, 3).Clear();
        FluentActions.Invoking(() => CompressedImage.Parse(none, "none.cfu")).Should().Throw<InvalidDataException>().WithMessage("none.cfu: the kept channel mask keeps none of the 20 channels");
        var above = (byte[])file.Clone();
        above[mask + 2] |= 0x80;
        FluentActions.Invoking(() => CompressedImage.Parse(above, "above.cfu")).Should().Throw<InvalidDataException>().WithMessage("above.cfu: the kept channel mask sets bits above channel 19");
        FluentActions.Invoking(() => CompressedImage.Parse(file.AsSpan(0, mask + 1), "cut.cfu")).Should().Throw<InvalidDataException>().WithMessage("cut.cfu: truncated at byte*kept channel mask*");
    }
}
