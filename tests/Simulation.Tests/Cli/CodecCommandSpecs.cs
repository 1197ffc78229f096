using System.Text.Json.Nodes;
using System.Xml.Linq;
using CoFUsfl.Models.Imaging;
using CoFUsfl.Models.Metrics;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>A tiny codec trained for 30 steps by <c>cofusfl codec train</c>, shared by the codec command specs.</summary>
public sealed class TrainedCodecFixture : IDisposable
{
    public TempFolder Dir { get; } = new();
    public string OutDir { get; }
    public string Model { get; }
    public CliResult Train { get; }

    public TrainedCodecFixture()
    {
        OutDir = Dir["codec"];
        Model = Path.Combine(OutDir, "codec.safetensors");
        Train = CliProcess.Run(Dir.Path, "codec", "train", Dir.Write("codec.conf", TinyConfig.Codec(OutDir, steps: 30)));
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary><c>cofusfl codec train|compress|decompress|eval|plot</c> on real files, and their errors.</summary>
public class CodecCommandSpecs(TrainedCodecFixture codec) : IClassFixture<TrainedCodecFixture>, IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private CliResult Cli(params string[] args) => CliProcess.Run(_dir.Path, args);

    [Fact]
    public void Codec_train_writes_a_checkpoint_and_a_JSON_log_of_its_steps()
    {
        codec.Train.ShouldSucceed();
        codec.Train.Stdout.Trim().Split('\n')[^1].Should().Be(codec.Model, "the last line is the checkpoint");
        File.Exists(codec.Model).Should().BeTrue();
        var log = File.ReadAllLines(Path.Combine(codec.OutDir, "train.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        log.Select(l => l["step"]!.GetValue<int>()).Should().Equal(1, 10, 20, 30);
        log.Should().OnlyContain(l => double.IsFinite(l["loss"]!.GetValue<double>()) && l["bpp"]!.GetValue<double>() > 0);
    }

    [Fact]
    public void Codec_eval_with_split_quantization_refuses_a_checkpoint_that_is_not_a_split_runs()
    {
        codec.Train.ShouldSucceed();
        var r = Cli("codec", "eval", "--model", codec.Model, "--dataset", Repo.Kodak, "--limit", "1", "--split-quantization", codec.Model);
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("--split-quantization").And.Contain("no head/tail metadata");
    }

    [Fact]
    public void Codec_train_with_a_teacher_distills_a_smaller_student_and_logs_its_distance_to_the_teacher()
    {
        codec.Train.ShouldSucceed();
        var outDir = _dir["student"];
        var config = _dir.Write("student.conf", TinyConfig.Codec(outDir, steps: 10) +
            $"\ncofusfl.model {{ n = 4, m = 8 }}\ncofusfl.codec-training {{ teacher = \"{codec.Model}\", distill-weight = 0.75 }}\n");
        var r = Cli("codec", "train", config).ShouldSucceed();
        r.Stdout.Trim().Split('\n')[^1].Should().Be(Path.Combine(outDir, "codec.safetensors"));
        var log = File.ReadAllLines(Path.Combine(outDir, "train.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        log.Should().NotBeEmpty().And.OnlyContain(l => l["teacher_mse"] != null && l["teacher_mse"]!.GetValue<double>() >= 0);
        var student = CoFUsfl.Simulation.Training.CodecTrainer.Load(Path.Combine(outDir, "codec.safetensors"));
        using (student) student.N.Should().Be(4, "the student has its own (smaller) size");
        // Plain training logs no teacher term.
        File.ReadAllLines(Path.Combine(codec.OutDir, "train.jsonl")).Should().OnlyContain(l => !l.Contains("teacher_mse"));
    }

    [Fact]
    public void Codec_train_names_a_missing_teacher_and_a_bad_distill_weight()
    {
        var missing = _dir["no-teacher.safetensors"];
        Cli("codec", "train", _dir.Write("a.conf", TinyConfig.Codec(_dir["a"], steps: 1) + $"\ncofusfl.codec-training.teacher = \"{missing}\"\n"))
            .ShouldFailClearly("cofusfl.codec-training.teacher", missing, "no such file");
        Cli("codec", "train", _dir.Write("b.conf", TinyConfig.Codec(_dir["b"], steps: 1) + "\ncofusfl.codec-training.distill-weight = 1.5\n"))
            .ShouldFailClearly("cofusfl.codec-training.distill-weight = 1.5", "between 0 and 1");
    }

    [Fact]
    public void Codec_train_with_classify_weight_trains_a_domain_classifier_on_the_latent_and_reports_held_out_accuracy()
    {
        var outDir = _dir["joint"];
        var config = _dir.Write("joint.conf", TinyConfig.Codec(outDir, steps: 10) +
            "\ncofusfl.data.train = [\"bsds500/train\", \"urban100\"]\ncofusfl.codec-training.classification { weight = 1, keep = [1.0, 0.5], eval-crops = 1 }\n");
        var r = Cli("codec", "train", config).ShouldSucceed();
        r.Stdout.Should().Contain("held-out images (2 classes, chance 50.0%)");
        r.Stdout.Should().Contain("   6 of 12 channels: accuracy ");
        var result = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "classification.json")))!;
        var curve = result["curve"]!.AsArray();
        curve.Select(p => p!["channels"]!.GetValue<int>()).Should().Equal(12, 6);
        curve.Should().OnlyContain(p => p!["crops"]!.GetValue<int>() == 37);
        curve[1]!["bpp"]!.GetValue<double>().Should().BeLessThan(curve[0]!["bpp"]!.GetValue<double>(), "the truncated encoder writes fewer bits");
        result["channel_order"]!.AsArray().Should().HaveCount(12);
        var last = JsonNode.Parse(File.ReadAllLines(Path.Combine(outDir, "train.jsonl"))[^1])!;
        last["val_images"]!.GetValue<int>().Should().Be(25 + 12, "every 8th of 200 bsds500 and 100 urban100 images");
        last["val_accuracy"]!.GetValue<double>().Should().BeInRange(0, 1);
        File.Exists(Path.Combine(outDir, "classifier.safetensors")).Should().BeTrue();
        Cli("codec", "train", _dir.Write("one.conf", TinyConfig.Codec(_dir["one"], steps: 1) + "\ncofusfl.codec-training.classification.weight = 1\n"))
            .ShouldFailClearly("cofusfl.codec-training.classification.weight = 1", "at least 2 classes");
    }

    [Fact]
    public void Compress_then_decompress_gives_the_image_size_the_bytes_and_the_PSNR_that_eval_reports()
    {
        codec.Train.ShouldSucceed();
        var original = Repo.KodakImage(1);
        var cfu = _dir["x.cfu"];
        var png = _dir["rec.png"];

        var compressed = Cli("codec", "compress", "--model", codec.Model, original, cfu).ShouldSucceed();
        Cli("codec", "decompress", "--model", codec.Model, cfu, png).ShouldSucceed();
        var eval = JsonNode.Parse(Cli("codec", "eval", "--model", codec.Model, "--dataset", Repo.Kodak, "--limit", "1", "--json").ShouldSucceed().Stdout)!;

        var bytes = new FileInfo(cfu).Length;
        compressed.Stdout.Should().StartWith($"{bytes} bytes, ", "compress reports the size of the file it wrote");
        var reference = ImageIO.Read(original);
        var decoded = ImageIO.Read(png);
        (decoded.Width, decoded.Height).Should().Be((reference.Width, reference.Height));
        var image = eval["per_image"]![0]!;
        image["name"]!.GetValue<string>().Should().Be("kodim01.png");
        image["bytes"]!.GetValue<long>().Should().Be(bytes, "eval codes the same bitstream");
        Psnr.Compute(reference, decoded).Should().Be(image["psnr"]!.GetValue<double>(), "the PNG a user decodes is what eval measured");
    }

    [Fact]
    public void Eval_json_has_per_image_and_mean_PSNR_MS_SSIM_and_bpp()
    {
        codec.Train.ShouldSucceed();
        var eval = JsonNode.Parse(Cli("codec", "eval", "--model", codec.Model, "--dataset", Repo.Kodak, "--limit", "2", "--json").ShouldSucceed().Stdout)!;
        var images = eval["per_image"]!.AsArray();
        images.Select(i => i!["name"]!.GetValue<string>()).Should().Equal("kodim01.png", "kodim02.png");
        foreach (var key in new[] { "psnr", "ms_ssim", "bpp" })
        {
            var values = images.Select(i => i![key]!.GetValue<double>()).ToList();
            values.Should().OnlyContain(v => v > 0 && double.IsFinite(v));
            eval[key]!.GetValue<double>().Should().BeApproximately(values.Average(), 1e-12, $"the mean {key} is the mean of the images");
        }
        eval["images"]!.GetValue<int>().Should().Be(2);
        eval["model"]!.GetValue<string>().Should().Be("bmshj2018-hyperprior");
    }

    [Fact]
    public void Plot_draws_an_eval_result_beside_a_reference_curve_as_SVG()
    {
        codec.Train.ShouldSucceed();
        var result = _dir["eval.json"];
        Cli("codec", "eval", "--model", codec.Model, "--dataset", Repo.Kodak, "--limit", "1", "--out", result).ShouldSucceed();
        var svg = _dir["rd.svg"];
        Cli("codec", "plot", result, "--reference", "bpg_444_x265_ycbcr", "--reference-dir", Repo.ReferenceRd, "--out", svg).ShouldSucceed();

        var doc = XDocument.Load(svg);
        doc.Root!.Name.LocalName.Should().Be("svg");
        var series = doc.Descendants().Where(e => (string?)e.Attribute("class") == "series").ToDictionary(e => (string)e.Attribute("data-name")!);
        var bpg = RdCurve.Load(Path.Combine(Repo.ReferenceRd, "bpg_444_x265_ycbcr.json"));
        series.Keys.Should().BeEquivalentTo([bpg.Name, "this work"]);
        var polyline = series[bpg.Name].Elements().Single(e => e.Name.LocalName == "polyline");
        ((string)polyline.Attribute("points")!).Split(' ', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(bpg.Bpp.Length, "one vertex per reference point");
        series["this work"].Elements().Should().NotBeEmpty("the eval result is drawn");
    }

    [Fact]
    public void Plot_names_a_missing_reference_curve()
    {
        var missing = Path.Combine(Repo.ReferenceRd, "no-such-codec.json");
        Cli("codec", "plot", "--reference", "no-such-codec", "--reference-dir", Repo.ReferenceRd, "--out", _dir["rd.svg"]).ShouldFailClearly(missing);
        File.Exists(_dir["rd.svg"]).Should().BeFalse();
    }

    [Fact]
    public void Every_output_may_go_to_a_folder_that_does_not_exist_yet()
    {
        codec.Train.ShouldSucceed();
        var cfu = _dir["new/a/x.cfu"];
        var png = _dir["new/b/rec.png"];
        var json = _dir["new/c/eval.json"];
        var svg = _dir["new/d/rd.svg"];
        Cli("codec", "compress", "--model", codec.Model, Repo.KodakImage(1), cfu).ShouldSucceed();
        Cli("codec", "decompress", "--model", codec.Model, cfu, png).ShouldSucceed();
        Cli("codec", "eval", "--model", codec.Model, "--dataset", Repo.Kodak, "--limit", "1", "--json", "--out", json).ShouldSucceed();
        Cli("codec", "plot", json, "--out", svg).ShouldSucceed();
        new[] { cfu, png, json, svg }.Should().OnlyContain(f => File.Exists(f) && new FileInfo(f).Length > 0);
    }

    [Fact]
    public void Eval_of_a_folder_without_images_says_so()
    {
        codec.Train.ShouldSucceed();
        var empty = _dir["empty"];
        Directory.CreateDirectory(empty);
        File.WriteAllText(Path.Combine(empty, "readme.txt"), "no images here");
        Cli("codec", "eval", "--model", codec.Model, "--dataset", empty).ShouldFailClearly($"no PNG or JPEG image in {empty}");
        Cli("codec", "eval", "--model", codec.Model, "--dataset", _dir["missing"]).ShouldFailClearly(_dir["missing"]);
    }

    [Fact]
    public void Decompress_of_a_truncated_bitstream_fails_naming_the_file()
    {
        codec.Train.ShouldSucceed();
        var cfu = _dir["x.cfu"];
        Cli("codec", "compress", "--model", codec.Model, Repo.KodakImage(1), cfu).ShouldSucceed();
        var truncated = _dir["truncated.cfu"];
        var bytes = File.ReadAllBytes(cfu);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        Cli("codec", "decompress", "--model", codec.Model, truncated, _dir["out.png"]).ShouldFailClearly(truncated);
        File.Exists(_dir["out.png"]).Should().BeFalse("nothing is written from a bad bitstream");
    }

    [Fact]
    public void Decompress_of_garbage_fails_naming_the_file()
    {
        codec.Train.ShouldSucceed();
        var garbage = _dir["garbage.cfu"];
        File.WriteAllBytes(garbage, Enumerable.Range(0, 3000).Select(i => (byte)(i * 131 % 251)).ToArray());
        Cli("codec", "decompress", "--model", codec.Model, garbage, _dir["out.png"]).ShouldFailClearly(garbage, "not a CoFUsfl .cfu bitstream");
        File.Exists(_dir["out.png"]).Should().BeFalse();
    }

    [Fact]
    public void Compress_of_a_corrupt_PNG_fails_naming_the_file()
    {
        codec.Train.ShouldSucceed();
        var corrupt = _dir["corrupt.png"];
        File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]);
        Cli("codec", "compress", "--model", codec.Model, corrupt, _dir["x.cfu"]).ShouldFailClearly(Path.GetFileName(corrupt), "no IEND chunk");
        File.Exists(_dir["x.cfu"]).Should().BeFalse();
    }

    [Fact]
    public void A_model_that_is_not_a_checkpoint_is_rejected_naming_it()
    {
        var notCheckpoint = _dir.Write("model.safetensors", "this is not a checkpoint");
        Cli("codec", "compress", "--model", notCheckpoint, Repo.KodakImage(1), _dir["x.cfu"]).ShouldFailClearly(notCheckpoint, "not safetensors");
        Cli("codec", "eval", "--model", _dir["missing.safetensors"], "--dataset", Repo.Kodak, "--limit", "1").ShouldFailClearly(_dir["missing.safetensors"]);
    }

    [Fact]
    public void Compress_refuses_a_small_PNG_that_claims_a_huge_image_before_decoding_it()
    {
        codec.Train.ShouldSucceed();
        // Signature and an IHDR of 16000 x 16000 RGB (valid CRC), nothing else: refused at the header.
        var ihdr = new byte[17];
        "IHDR"u8.CopyTo(ihdr);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), 16000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(8), 16000);
        ihdr[12] = 8;
        ihdr[13] = 2;
        var png = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 };
        png.AddRange(ihdr);
        var crc = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, PngCrc(ihdr));
        png.AddRange(crc);
        var huge = _dir["huge.png"];
        File.WriteAllBytes(huge, png.ToArray());
        Cli("codec", "compress", "--model", codec.Model, huge, _dir["x.cfu"]).ShouldFailClearly("huge.png", "16000x16000", "above the limit", "--max-memory");
        File.Exists(_dir["x.cfu"]).Should().BeFalse();
        Cli("codec", "compress", "--model", codec.Model, Repo.KodakImage(1), _dir["x.cfu"], "--max-memory", "0").ShouldFailClearly("--max-memory 0");
    }

    [Fact]
    public void Decompress_checks_the_claimed_sizes_against_each_other_and_the_memory_budget_before_decoding()
    {
        codec.Train.ShouldSucceed();
        var cfu = _dir["x.cfu"];
        Cli("codec", "compress", "--model", codec.Model, Repo.KodakImage(1), cfu).ShouldSucceed();
        var bytes = File.ReadAllBytes(cfu);
        var sizes = 4 + 1 + bytes[4] + 4; // magic, name length, name, N and M: then height, width, latent height, latent width (u16)
        void Claim(ushort h, ushort w, ushort lh, ushort lw)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(sizes), h);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(sizes + 2), w);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(sizes + 4), lh);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(sizes + 6), lw);
            File.WriteAllBytes(cfu, bytes);
        }
        Claim(20000, 20000, 12, 8);
        Cli("codec", "decompress", "--model", codec.Model, cfu, _dir["out.png"]).ShouldFailClearly(cfu, "does not fit a 20000x20000 image", "expected 313x313");
        Claim(20000, 20000, 313, 313);
        Cli("codec", "decompress", "--model", codec.Model, cfu, _dir["out.png"]).ShouldFailClearly(cfu, "claims a 20000x20000 image", "above --max-memory 4096 MiB");
        File.Exists(_dir["out.png"]).Should().BeFalse();
    }

    [Fact]
    public void A_codec_with_NaN_weights_is_refused_by_every_command()
    {
        codec.Train.ShouldSucceed();
        var meta = new Dictionary<string, string>();
        var tensors = CoFUsfl.Torch.Safetensors.Load(codec.Model, meta);
        var name = tensors.Keys.Order(StringComparer.Ordinal).First(k => tensors[k].dtype == CoFUsfl.Torch.ScalarType.Float32);
        var v = tensors[name].data<float>();
        v[^1] = float.NaN;
        tensors[name] = CoFUsfl.Torch.torch.from_array(v, tensors[name].shape);
        var bad = _dir["nan.safetensors"];
        CoFUsfl.Torch.Safetensors.Save(bad, tensors, meta);
        Cli("codec", "eval", "--model", bad, "--dataset", Repo.Kodak, "--limit", "1").ShouldFailClearly(bad, $"'{name}' holds NaN");
        Cli("codec", "compress", "--model", bad, Repo.KodakImage(1), _dir["x.cfu"]).ShouldFailClearly(bad, "NaN");
    }

    private static uint PngCrc(byte[] data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            c ^= b;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }
}
