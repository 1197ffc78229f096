using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.Evaluation;
using CoFUsfl.Models.Imaging;
using CoFUsfl.Models.Metrics;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Data;
using CoFUsfl.Simulation.Training;
using CoFUsfl.Torch;
using Spectre.Console;

namespace CoFUsfl.Cli.Commands;

/// <summary><c>cofusfl codec train|compress|decompress|eval|plot</c>: the learned codec on its own.</summary>
[CliCommand]
public static class CodecCommand
{
    public static Command Create()
    {
        var command = new Command("codec", "Train, run and evaluate a learned image codec (real rANS bitstreams).");
        command.Subcommands.Add(Train());
        command.Subcommands.Add(Compress());
        command.Subcommands.Add(Decompress());
        command.Subcommands.Add(Eval());
        command.Subcommands.Add(Plot());
        return command;
    }

    private static Option<string> ModelOption() => new("--model") { Description = "Codec checkpoint (.safetensors written by codec train or a run folder's codec.safetensors).", Required = true };

    private static Option<int> MemoryOption() => new("--max-memory")
    {
        Description = "MiB the coding may use (estimated from the image size and the model's width, checked before anything is decoded).",
        DefaultValueFactory = _ => 4096,
    };

    /// <summary>The largest image <paramref name="m"/> codes within <paramref name="mib"/> MiB (see <see cref="CompressionModel.CodingBytesPerPixel"/>).</summary>
    private static long PixelBudget(CompressionModel m, int mib)
    {
        if (mib <= 0) throw new CliException($"error: --max-memory {mib}: a number of MiB > 0");
        return (long)mib * 1024 * 1024 / m.CodingBytesPerPixel;
    }

    private static CompressionModel LoadModel(string path)
    {
        try { return CodecTrainer.Load(path); }
        catch (Exception e) when (e is FormatException or ArgumentException) { throw new CliException($"error: {e.Message}"); }
    }

    private static Command Train()
    {
        var file = new Argument<string>("config") { Description = "HOCON configuration (cofusfl.model, cofusfl.data, cofusfl.loss, cofusfl.codec-training)." };
        var defines = CliConfig.DefineOption();
        var c = new Command("train", "Single-machine training: λ·255²·MSE + bpp, separate aux optimizer, safetensors checkpoints; with codec-training.teacher, distillation from a trained codec.") { file, defines };
        c.SetAction(r =>
        {
            var config = CliConfig.Load(r.GetValue(file)!, CliConfig.Defines(r, defines));
            var o = RunCommand.BindAndValidate(config, r.GetValue(file)!);
            ITrainingImages images;
            try { images = TrainingImageSet.Load(o.Data); }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or InvalidDataException) { throw new CliException($"error: {e.Message}"); }
            var t = o.CodecTraining;
            try { CodecTrainer.Validate(t); }
            catch (ArgumentException e) { throw new CliException($"error: {r.GetValue(file)}: {e.Message}"); }
            try { if (t.ClassifyWeight > 0) JointClassification.Validate(t.Classification, o, images.Domains.Count); }
            catch (ArgumentException e) { throw new CliException($"error: {r.GetValue(file)}: {e.Message}"); }
            using var teacher = t.Teacher.Length == 0 ? null
                : File.Exists(t.Teacher) ? LoadModel(t.Teacher)
                : throw new CliException($"error: {r.GetValue(file)}: cofusfl.codec-training.teacher = \"{t.Teacher}\": no such file ({Path.GetFullPath(t.Teacher)})");
            Directory.CreateDirectory(t.Out);
            var logPath = Path.Combine(t.Out, "train.jsonl");
            File.WriteAllText(logPath, "");
            CompressionModel? model = null;
            JointResult? joint = null;
            if (t.Feds.Enabled && teacher is null)
                throw new CliException($"error: {r.GetValue(file)}: cofusfl.codec-training.feds (feature-steps = {t.Feds.FeatureSteps}, channel-steps = {t.Feds.ChannelSteps}) needs a teacher: set cofusfl.codec-training.teacher");
            if (t.Feds.Enabled)
            {
                using var probe = CodecZoo.Create(o.Model.Name, o.Model.N, o.Model.M);
                try { FedsAdapters.Check(probe, teacher!); }
                catch (ArgumentException e) { throw new CliException($"error: {r.GetValue(file)}: {e.Message}"); }
            }
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(p =>
                {
                    var task = p.AddTask(teacher is null ? $"training {o.Model.Name}" : $"distilling {teacher.Name} N={teacher.N} → {o.Model.Name} N={o.Model.N}{(t.Feds.Enabled ? " (FEDS)" : "")}", maxValue: t.Steps);
                    void Log(CodecTrainer.StepLog s)
                    {
                        File.AppendAllText(logPath, CodecTrainer.ToJson(s).ToJsonString() + "\n");
                        task.Value = s.Step;
                        task.Description = $"{(s.Stage is { } st ? $"stage {st}, " : "")}step {s.Step}: loss {s.Loss:F3}, PSNR {s.Psnr:F2} dB, {s.Bpp:F3} bpp";
                    }
                    if (t.ClassifyWeight > 0)
                    {
                        joint = JointClassification.Run(o, t, images, Log, screened: s =>
                        {
                            File.AppendAllText(logPath, new JsonObject { ["screen_m"] = s.M, ["accuracy"] = s.Accuracy, ["bpp"] = s.Bpp, ["psnr"] = s.Psnr }.ToJsonString() + "\n");
                            task.Description = $"screening M = {s.M}: held-out accuracy {100 * s.Accuracy:F1}%, {s.Bpp:F3} bpp";
                        });
                        model = joint.Model;
                    }
                    else model = CodecTrainer.Train(o, t, images, Log, teacher: teacher);
                    task.Value = t.Steps;
                });
            model!.Dispose();
            if (joint is not null)
            {
                using var head = joint.Classifier.Head;
                var classes = o.Data.Format == CoFUsfl.Simulation.Configuration.DataFormat.Folders ? string.Join(",", o.Data.Train) : $"{o.Data.Format} labels 0-{images.Domains.Count - 1}";
                var meta = new Dictionary<string, string>
                {
                    ["classes"] = classes, ["latent_channels"] = joint.ChosenM.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["val_accuracy"] = joint.Classifier.ValAccuracy.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                    ["val_images"] = joint.Classifier.ValImages.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["channel_order"] = string.Join(",", joint.ChannelOrder),
                };
                Safetensors.Save(Path.Combine(t.Out, "classifier.safetensors"), head.state_dict(), meta);
                var result = joint.ToJson(t.Classification, images.Domains.Count);
                File.WriteAllText(Path.Combine(t.Out, "classification.json"), result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
                File.AppendAllText(logPath, new JsonObject { ["val_accuracy"] = joint.Classifier.ValAccuracy, ["val_images"] = joint.Classifier.ValImages, ["classes"] = images.Domains.Count }.ToJsonString() + "\n");
                if (joint.Screening.Count > 0)
                    Console.WriteLine($"screening: {string.Join(", ", joint.Screening.Select(s => $"M = {s.M} {100 * s.Accuracy:F1}%"))} → M = {joint.ChosenM}");
                Console.WriteLine($"classification from ŷ: accuracy {100 * joint.Classifier.ValAccuracy:F1}% on {joint.Classifier.ValImages} held-out images ({images.Domains.Count} classes, chance {100.0 / images.Domains.Count:F1}%)");
                foreach (var pt in joint.Curve)
                    Console.WriteLine($"  {pt.Channels,4} of {joint.ChosenM} channels: accuracy {100 * pt.Accuracy:F1}%, {pt.Bpp:F3} bpp, {pt.Psnr:F2} dB ({pt.Crops} crops through real bitstreams)");
                Console.WriteLine(Path.Combine(t.Out, "classification.json"));
            }
            Console.WriteLine(Path.Combine(t.Out, "codec.safetensors"));
            return 0;
        });
        return c;
    }

    private static Command Compress()
    {
        var model = ModelOption();
        var input = new Argument<string>("input") { Description = "PNG or JPEG image." };
        var output = new Argument<string>("output") { Description = "Bitstream (.cfu)." };
        var memory = MemoryOption();
        var c = new Command("compress", "Encode an image into a .cfu bitstream.") { model, input, output, memory };
        c.SetAction(r =>
        {
            using var m = LoadModel(r.GetValue(model)!);
            var path = r.GetValue(input)!;
            var budget = PixelBudget(m, r.GetValue(memory));
            Image img;
            try { img = ImageIO.Read(path, budget); }
            catch (Exception e) when (e is ImageFormatException or IOException)
            {
                throw new CliException($"error: {e.Message}" + (e.Message.Contains("above the limit", StringComparison.Ordinal)
                    ? $" ({m.Name} N={m.N} needs about {m.CodingBytesPerPixel} bytes a pixel; raise --max-memory, now {r.GetValue(memory)} MiB, to code it)" : ""));
            }
            using var scope = torch.NewDisposeScope();
            var padded = CoFUsfl.Models.Data.Padding.PadToMultiple(ImageConvert.ToChwFloat(img), 3, img.Height, img.Width, m.DownsamplingFactor);
            var strings = m.compress(torch.from_array(padded.Data, 1, 3, padded.Height, padded.Width));
            var bytes = new CompressedImage(m.Name, (int)m.N, (int)m.M, img.Height, img.Width, strings).ToBytes();
            var outPath = Path.GetFullPath(r.GetValue(output)!);
            Directory.CreateDirectory(Path.GetDirectoryName(outPath)!); // as decompress (PNG) and plot (SVG) do
            File.WriteAllBytes(outPath, bytes);
            Console.WriteLine($"{bytes.Length} bytes, {8.0 * bytes.Length / ((double)img.Width * img.Height):F4} bpp");
            return 0;
        });
        return c;
    }

    private static Command Decompress()
    {
        var model = ModelOption();
        var input = new Argument<string>("input") { Description = "Bitstream (.cfu)." };
        var output = new Argument<string>("output") { Description = "Reconstructed PNG." };
        var memory = MemoryOption();
        var c = new Command("decompress", "Decode a .cfu bitstream into a PNG.") { model, input, output, memory };
        c.SetAction(r =>
        {
            using var m = LoadModel(r.GetValue(model)!);
            var path = r.GetValue(input)!;
            CompressedImage ci;
            try { ci = CompressedImage.Parse(File.ReadAllBytes(path), path); }
            catch (Exception e) when (e is InvalidDataException or IOException) { throw new CliException($"error: {e.Message}"); }
            if (ci.Model != m.Name || ci.N != m.N || ci.M != m.M)
                throw new CliException($"error: {path} was coded by {ci.Model} (N={ci.N}, M={ci.M}), the checkpoint is {m.Name} (N={m.N}, M={m.M})");
            // Claimed sizes are checked before anything is allocated: against each other, then against the memory budget.
            if (!m.LatentFits(ci.Height, ci.Width, ci.Strings.LatentHeight, ci.Strings.LatentWidth))
                throw new CliException($"error: {path}: latent size {ci.Strings.LatentHeight}x{ci.Strings.LatentWidth} does not fit a {ci.Width}x{ci.Height} image " +
                    $"(expected {(ci.Height + m.DownsamplingFactor - 1) / m.DownsamplingFactor}x{(ci.Width + m.DownsamplingFactor - 1) / m.DownsamplingFactor})");
            var pixels = (long)ci.Height * ci.Width;
            if (pixels > PixelBudget(m, r.GetValue(memory)))
                throw new CliException($"error: {path} claims a {ci.Width}x{ci.Height} image; decoding it with {m.Name} N={m.N} needs about " +
                    $"{pixels * m.CodingBytesPerPixel / (1024 * 1024)} MiB, above --max-memory {r.GetValue(memory)} MiB");
            using var scope = torch.NewDisposeScope();
            float[] xHat;
            try
            {
                var decoded = m.decompress(ci.Strings);
                var layout = CoFUsfl.Models.Data.Padding.PadToMultiple(new float[3 * ci.Height * ci.Width], 3, ci.Height, ci.Width, m.DownsamplingFactor);
                if (decoded.size(2) != layout.Height || decoded.size(3) != layout.Width)
                    throw new InvalidDataException($"latent size {ci.Strings.LatentHeight}x{ci.Strings.LatentWidth} does not fit a {ci.Width}x{ci.Height} image");
                xHat = CoFUsfl.Models.Data.Padding.Crop(decoded.contiguous().data<float>(), layout);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or TorchException) { throw new CliException($"error: {path}: {e.Message}"); }
            ImageIO.WritePng(r.GetValue(output)!, ImageConvert.FromChwFloat(xHat, ci.Height, ci.Width));
            return 0;
        });
        return c;
    }

    private static Command Eval()
    {
        var model = ModelOption();
        var dataset = new Option<string>("--dataset") { Description = "Folder of PNG/JPEG images (e.g. ../shared/datasets/kodak).", Required = true };
        var limit = new Option<int>("--limit") { Description = "Evaluate only the first N images (0 = all)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (per image and mean)." };
        var outFile = new Option<string?>("--out") { Description = "Also write the JSON result to this file (input of codec plot)." };
        var split = new Option<string?>("--split-quantization")
        {
            Description = "A CoF U-SFL run's checkpoint (RUN/checkpoints/latest.safetensors): round the split features with its learned gains at inference, as the run trained the codec (adaptive feature codec).",
        };
        var c = new Command("eval", "PSNR, MS-SSIM and bpp from real bitstreams (and estimated bpp, encode/decode ms).") { model, dataset, limit, json, outFile, split };
        c.SetAction(r =>
        {
            using var m = LoadModel(r.GetValue(model)!);
            if (r.GetValue(split) is { } checkpoint)
            {
                try { m.Split = CodecTrainer.LoadSplitQuantization(checkpoint); }
                catch (Exception e) when (e is FormatException or IOException or ArgumentException or InvalidDataException) { throw new CliException($"error: --split-quantization {checkpoint}: {e.Message}"); }
            }
            EvalSummary s;
            try { s = new CodecEvaluator(r.GetValue(dataset)!).Evaluate(m, r.GetValue(limit)); }
            catch (Exception e) when (e is DirectoryNotFoundException or ImageFormatException or IOException) { throw new CliException($"error: {e.Message}"); }
            if (s.Images.Count == 0) throw new CliException($"error: no PNG or JPEG image in {Path.GetFullPath(r.GetValue(dataset)!)}");
            var o = s.ToJson();
            o["model"] = m.Name;
            o["checkpoint"] = Path.GetFullPath(r.GetValue(model)!);
            if (r.GetValue(split) is { } sq) o["split_quantization"] = Path.GetFullPath(sq);
            if (r.GetValue(outFile) is { } f)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(f))!);
                File.WriteAllText(f, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            if (r.GetValue(json)) Console.WriteLine(o.ToJsonString());
            else
            {
                var table = new Table().AddColumns("image", "bpp", "est. bpp", "PSNR", "MS-SSIM", "enc ms", "dec ms");
                foreach (var i in s.Images)
                    table.AddRow(i.Name, $"{i.Bpp:F4}", $"{i.EstimatedBpp:F4}", $"{i.Psnr:F2}", $"{i.MsSsim:F4}", $"{i.EncodeMs:F0}", $"{i.DecodeMs:F0}");
                table.AddRow("[bold]mean[/]", $"{s.Bpp:F4}", $"{s.EstimatedBpp:F4}", $"{s.Psnr:F2}", $"{s.MsSsim:F4}", "", "");
                AnsiConsole.Write(table);
            }
            return 0;
        });
        return c;
    }

    private static Command Plot()
    {
        var results = new Argument<string[]>("results") { Description = "JSON files of codec eval --out (each one RD point), or folders of runs.", Arity = ArgumentArity.ZeroOrMore };
        var reference = new Option<string[]>("--reference") { Description = "Reference curves by file name in ../shared/reference/kodak-rd (e.g. bpg_444_x265_ycbcr), repeatable.", AllowMultipleArgumentsPerToken = true };
        var referenceDir = new Option<string>("--reference-dir") { Description = "Folder of reference RD JSON files.", DefaultValueFactory = _ => SimulationConfig.ResolveRoot("../shared/reference/kodak-rd") };
        var output = new Option<string>("--out") { Description = "SVG file to write.", Required = true };
        var c = new Command("plot", "SVG rate–distortion plot (PSNR vs bpp) of eval results beside reference curves.") { results, reference, referenceDir, output };
        c.SetAction(r =>
        {
            var curves = new List<RdCurve>();
            var points = new List<(string, double, double)>();
            foreach (var f in r.GetValue(results) ?? [])
            {
                var path = Directory.Exists(f) ? Path.Combine(f, "summary.json") : f;
                JsonNode? node;
                try { node = JsonNode.Parse(File.ReadAllText(path)); }
                catch (Exception e) when (e is IOException or JsonException) { throw new CliException($"error: {path}: {e.Message}"); }
                var o = node?["kodak"] ?? node;
                var bpp = o?["bpp"]?.GetValue<double>() ?? throw new CliException($"error: {path}: no bpp (expected codec eval --out JSON or a run's summary.json)");
                var psnr = o["psnr"]?.GetValue<double>() ?? throw new CliException($"error: {path}: no psnr");
                points.Add((node?["name"]?.GetValue<string>() ?? Path.GetFileNameWithoutExtension(path), bpp, psnr));
            }
            foreach (var name in r.GetValue(reference) ?? [])
            {
                var path = Path.Combine(r.GetValue(referenceDir)!, name.EndsWith(".json", StringComparison.Ordinal) ? name : name + ".json");
                try { curves.Add(RdCurve.Load(path)); }
                catch (Exception e) when (e is IOException or FormatException or JsonException) { throw new CliException($"error: {path}: {e.Message}"); }
            }
            if (curves.Count == 0 && points.Count == 0) throw new CliException("error: nothing to plot (give result files and/or --reference curves)");
            if (points.Count > 0) curves.Add(new RdCurve("this work", points.Select(p => p.Item2).ToArray(), points.Select(p => p.Item3).ToArray()));
            RdPlot.Save(r.GetValue(output)!, curves, "Kodak rate–distortion");
            Console.WriteLine(r.GetValue(output));
            return 0;
        });
        return c;
    }
}
