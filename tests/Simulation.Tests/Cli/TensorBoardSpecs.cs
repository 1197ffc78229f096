using System.Text.Json.Nodes;
using CoFUsfl.Simulation.Metrics;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>Every run folder has a TensorBoard event file: TFRecord framing with masked CRC-32C, Event/Summary protobufs.</summary>
public class TensorBoardSpecs(TwoRunsFixture runs) : IClassFixture<TwoRunsFixture>
{
    [Fact]
    public void A_run_writes_an_event_file_whose_scalars_are_the_metrics_and_whose_images_are_kodak_reconstructions()
    {
        runs.CofResult.ShouldSucceed();
        var file = Directory.GetFiles(runs.Cof, "events.out.tfevents.*").Should().ContainSingle().Subject;
        var events = TensorBoardWriter.Read(file);
        events[0].FileVersion.Should().Be("brain.Event:2");
        var metrics = File.ReadLines(Path.Combine(runs.Cof, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var scalars = events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Where(v => v.Image is null).Select(v => (e.Step, v.Tag, v.SimpleValue))).ToList();
        foreach (var round in metrics)
        {
            var step = round["round"]!.GetValue<long>();
            float At(string tag) => scalars.Single(s => s.Step == step && s.Tag == tag).SimpleValue;
            At("train/psnr").Should().Be((float)round["train"]!["psnr"]!.GetValue<double>());
            At("eval/psnr").Should().Be((float)round["eval"]!["psnr"]!.GetValue<double>());
            At("bytes/transfer1_features_up").Should().Be(round["bytes"]!["transfer1_features_up"]!.GetValue<long>());
            At("time/simulated_s").Should().Be((float)round["simulated_time_s"]!.GetValue<double>());
        }
        var image = events.SelectMany(e => e.Summary?.Value ?? []).First(v => v.Image is not null);
        image.Tag.Should().StartWith("eval/");
        var png = Models.Imaging.PngDecoder.Decode(image.Image.EncodedImageString.ToByteArray());
        (png.Width, png.Height).Should().Be((image.Image.Width, image.Image.Height));
    }

    [Fact]
    public void A_damaged_event_file_is_refused_naming_the_record()
    {
        runs.PlainResult.ShouldSucceed();
        var file = Directory.GetFiles(runs.Plain, "events.out.tfevents.*").Single();
        var bytes = File.ReadAllBytes(file);
        var copy = Path.Combine(Path.GetTempPath(), "cofusfl-tb-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            bytes[^3] ^= 0x40;  // inside the last record's data CRC
            File.WriteAllBytes(copy, bytes);
            FluentActions.Invoking(() => TensorBoardWriter.Read(copy)).Should().Throw<InvalidDataException>().WithMessage("*CRC mismatch*");
            File.WriteAllBytes(copy, bytes[..^6]);
            FluentActions.Invoking(() => TensorBoardWriter.Read(copy)).Should().Throw<InvalidDataException>().WithMessage("*record*");
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void The_masked_crc_is_tensorflows()
    {
        // CRC-32C of "123456789" is 0xE3069283 (RFC 3720 B.4); TFRecord masks it as rotr15(crc) + 0xa282ead8 (computed independently).
        Actors.Crc32C.Compute("123456789"u8).Should().Be(0xE3069283);
        TensorBoardWriter.MaskedCrc("123456789"u8).Should().Be(0xC78AB0E5);
    }
}
