using CoFUsfl.Hocon;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Data;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Training;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Tests;

/// <summary>Joint compression + classification in three steps: screening, end-to-end training, truncated deployment.</summary>
public class JointClassificationSpecs
{
    private static SimulationOptions Options() => SimulationSpecs.Small() with
    {
        Seed = 5, Model = new ModelOptions { Name = "bmshj2018-hyperprior", N = 8, M = 12 },
        Data = new DataOptions { Train = ["synthetic"], Crop = 64, BatchSize = 8 },
    };

    private static CodecTrainingOptions Training(JointClassificationOptions c, int steps = 40) => new()
    {
        Steps = steps, Lr = 3e-3, LogEvery = 10, CheckpointEvery = 0, Classification = c,
        Out = Path.Combine(Path.GetTempPath(), "cofusfl-joint-" + Guid.NewGuid().ToString("N")[..8]),
    };

    [Fact]
    public void Screening_keeps_the_smallest_width_within_the_tolerance_of_the_best()
    {
        ScreenPoint[] s = [new(16, 0.80, 0.2, 20), new(32, 0.85, 0.3, 21), new(48, 0.86, 0.4, 22)];
        JointClassification.Choose(s, 0.02).Should().Be(32);
        JointClassification.Choose(s, 0).Should().Be(48);
        JointClassification.Choose(s, 0.1).Should().Be(16);
        FluentActions.Invoking(() => JointClassification.Choose([], 0.1)).Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData("keep = [0]", "classification.keep = [0]: fractions of ŷ's channels in (0, 1]")]
    [InlineData("keep = [1.5]", "classification.keep = [1.5]")]
    [InlineData("keep = [0.5, 0.5]", "each fraction once")]
    [InlineData("keep = [0.01]", "classification.keep = 0.01: keeps no channel of M = 48")]
    [InlineData("screen.m = [32, 16]", "classification.screen.m = [32, 16]: increasing latent widths")]
    [InlineData("screen.m = [2, 16], keep = [0.2]", "classification.keep = 0.2: keeps no channel of M = 2")]
    [InlineData("screen.steps = 0", "classification.screen.steps = 0")]
    [InlineData("screen.tolerance = 1", "classification.screen.tolerance = 1")]
    [InlineData("eval-crops = 0", "classification.eval-crops = 0")]
    [InlineData("consistency-weight = -1", "classification.consistency-weight = -1")]
    public void Bad_classification_settings_are_refused_naming_the_key(string setting, string message)
    {
        var config = Config.ParseString($"cofusfl.codec-training.classification {{ weight = 1, {setting} }}", "t.conf")
            .WithFallback(Config.ParseString(ReferenceConfig.Text, "reference.conf")).Resolve(new ResolveOptions { UseEnvironment = false });
        var o = SimulationConfig.Bind(config);
        var act = () => JointClassification.Validate(o.CodecTraining.Classification, o, 3);
        act.Should().Throw<ArgumentException>().WithMessage($"*{message}*");
    }

    [Fact]
    public void A_factorized_codec_or_a_single_class_is_refused()
    {
        var o = Options();
        var c = new JointClassificationOptions { Weight = 1 };
        FluentActions.Invoking(() => JointClassification.Validate(c, o with { Model = o.Model with { Name = "bmshj2018-factorized" } }, 2))
            .Should().Throw<ArgumentException>().WithMessage("*bmshj2018-factorized*cannot truncate its latent*");
        FluentActions.Invoking(() => JointClassification.Validate(c, o, 1)).Should().Throw<ArgumentException>().WithMessage("*at least 2 classes*has 1*");
    }

    [Fact]
    public void The_three_steps_screen_train_and_deploy_one_encoder_at_several_rates_through_real_bitstreams()
    {
        var o = Options();
        var c = new JointClassificationOptions
        {
            Weight = 1, ConsistencyWeight = 0.5, Screen = new LatentScreenOptions { M = [6, 12], Steps = 15, Tolerance = 0.5 },
            Keep = [0.5, 1.0], EvalCrops = 1,
        };
        var t = Training(c);
        var screened = new List<ScreenPoint>();
        var r = JointClassification.Run(o, t, new TwoLooks(), screened: screened.Add);
        using var model = r.Model;
        using var head = r.Classifier.Head;

        screened.Select(s => s.M).Should().Equal(6, 12);
        r.Screening.Should().Equal(screened);
        r.ChosenM.Should().Be(JointClassification.Choose(screened, 0.5)).And.Be(6, "a tolerance of 0.5 keeps the smallest width unless it is far worse");
        model.M.Should().Be(r.ChosenM, "step 2 trains the chosen width");
        r.ChannelOrder.Order().Should().Equal(Enumerable.Range(0, r.ChosenM), "the ranking is a permutation of ŷ's channels");
        var bits = JointClassification.ChannelBits(model, new TwoLooks(), r.Classifier.ValImageIndexes, o);
        for (var i = 1; i < r.ChannelOrder.Length; i++) bits[r.ChannelOrder[i - 1]].Should().BeGreaterThanOrEqualTo(bits[r.ChannelOrder[i]], "most bits first");

        r.Curve.Select(p => p.Keep).Should().Equal(1.0, 0.5);
        r.Curve.Select(p => p.Channels).Should().Equal(6, 3);
        r.Curve.Should().OnlyContain(p => p.Crops == 4 && p.Accuracy >= 0 && p.Accuracy <= 1 && p.Psnr > 0);
        r.Curve[1].Bpp.Should().BeLessThan(r.Curve[0].Bpp, "half the channels are not coded");
        r.Curve[0].Accuracy.Should().Be(JointClassification.Evaluate(model, head, new TwoLooks(), r.Classifier.ValImageIndexes,
            Enumerable.Range(0, 6).ToArray(), 1.0, o, 1).Accuracy, "the evaluation is deterministic");
        var json = r.ToJson(c, 2);
        json["m"]!.GetValue<int>().Should().Be(6);
        json["curve"]!.AsArray().Should().HaveCount(2);
        json["screening"]!.AsArray().Should().HaveCount(2);
        r.Majority.Should().Be(0.5, "two held-out images of each class");
    }

    [Fact]
    public void The_consistency_term_changes_training_and_the_same_seed_gives_the_same_codec()
    {
        var o = Options();
        string Train(double consistency)
        {
            var t = Training(new JointClassificationOptions { Weight = 1, ConsistencyWeight = consistency }, steps: 6);
            var logs = new List<CodecTrainer.StepLog>();
            ClassifierResult? head = null;
            using var model = CodecTrainer.Train(o, t, new TwoLooks(), logs.Add, classified: h => head = h);
            head!.Head.Dispose();
            return string.Join(",", model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value.sum().item().ToString("R")));
        }
        var a = Train(1);
        Train(1).Should().Be(a, "same seed, same configuration");
        Train(0).Should().NotBe(a, "the second view and its consistency term take part in the gradient");
    }

    private static byte[] CifarRecords(int labelBytes, params int[] labels)
    {
        var data = new byte[labels.Length * (labelBytes + 3072)];
        for (var r = 0; r < labels.Length; r++)
        {
            var at = r * (labelBytes + 3072);
            data[at + labelBytes - 1] = (byte)labels[r];
            if (labelBytes == 2) data[at] = 99; // CIFAR-100's coarse label, not used
            for (var i = 0; i < 3072; i++) data[at + labelBytes + i] = (byte)((r * 7 + i / 1024 * 50 + i % 1024) % 256);
        }
        return data;
    }

    [Fact]
    public void CIFAR_binary_files_load_as_one_domain_per_class_and_bad_files_are_named()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cofusfl-cifar-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "data_batch_1.bin"), CifarRecords(1, 3, 0, 3, 9));
        File.WriteAllBytes(Path.Combine(dir, "data_batch_2.bin"), CifarRecords(1, 0));
        var set = TrainingImageSet.Load(new DataOptions { Root = dir, Train = ["data_batch_1.bin", "data_batch_2.bin"], Format = DataFormat.Cifar10 });
        set.Count.Should().Be(5);
        set.Domains.Should().HaveCount(10);
        set.Domains[3].Should().Equal(0, 2);
        set.Domains[0].Should().Equal(1, 4);
        set.Domains[9].Should().Equal(3);
        var (name, chw, h, w) = set.Image(2);
        (name, h, w).Should().Be(("data_batch_1.bin#2", 32, 32));
        chw[0].Should().Be(14 / 255f, "record 2's red plane starts at 2·7");
        chw[1024].Should().Be(64 / 255f, "green is the second plane (+50)");
        chw[2048 + 5].Should().Be(119 / 255f, "blue, pixel 5");
        using (var batch = set.Batch([0, 1], 64, new Random(1))) batch.shape.Should().Equal(2, 3, 64, 64);

        File.WriteAllBytes(Path.Combine(dir, "fine.bin"), CifarRecords(2, 57));
        var fine = TrainingImageSet.Load(new DataOptions { Root = dir, Train = ["fine.bin"], Format = DataFormat.Cifar100 });
        fine.Domains.Should().HaveCount(100);
        fine.Domains[57].Should().Equal([0], "CIFAR-100's fine label is the class");

        File.WriteAllBytes(Path.Combine(dir, "short.bin"), CifarRecords(1, 1)[..3000]);
        FluentActions.Invoking(() => TrainingImageSet.Load(new DataOptions { Root = dir, Train = ["short.bin"], Format = DataFormat.Cifar10 }))
            .Should().Throw<InvalidDataException>().WithMessage("*short.bin: 3000 bytes is not a whole number of CIFAR-10 records (1 label byte + 3072 pixel bytes each)");
        File.WriteAllBytes(Path.Combine(dir, "label.bin"), CifarRecords(1, 1, 10));
        FluentActions.Invoking(() => TrainingImageSet.Load(new DataOptions { Root = dir, Train = ["label.bin"], Format = DataFormat.Cifar10 }))
            .Should().Throw<InvalidDataException>().WithMessage("*label.bin: record 1 has label 10; CIFAR-10 has 10 classes");
        FluentActions.Invoking(() => TrainingImageSet.Load(new DataOptions { Root = dir, Train = ["missing.bin"], Format = DataFormat.Cifar100 }))
            .Should().Throw<FileNotFoundException>().WithMessage("CIFAR-100 file 'missing.bin' not found*");
        Directory.Delete(dir, true);
    }

    [Fact]
    public void The_format_binds_from_HOCON_and_a_U_SFL_run_refuses_CIFAR_files_clearly()
    {
        var config = Config.ParseString("cofusfl.data { format = \"cifar-100\", train = [\"x.bin\"] }", "t.conf")
            .WithFallback(Config.ParseString(ReferenceConfig.Text, "reference.conf")).Resolve(new ResolveOptions { UseEnvironment = false });
        var o = SimulationConfig.Bind(config);
        o.Data.Format.Should().Be(DataFormat.Cifar100);
        FluentActions.Invoking(() => SimulationRunner.BuildContext(o with { Data = o.Data with { Format = DataFormat.Cifar10 } }))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.data.format = Cifar10: CIFAR files are read by `cofusfl codec train`*");
    }
}

public class ClassificationReportSpecs
{
    private static string Folder(string name, double consistency, IReadOnlyList<(double Keep, int Channels, double Accuracy, double Bpp)> curve, int m = 16, bool screened = false)
    {
        var dir = Path.Combine(Path.GetTempPath(), "cofusfl-clsreport-" + Guid.NewGuid().ToString("N")[..8], name);
        Directory.CreateDirectory(dir);
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["weight"] = 1.0, ["consistency_weight"] = consistency, ["classes"] = 3, ["m"] = m, ["val_accuracy"] = curve[0].Accuracy, ["val_images"] = 47, ["majority"] = 25.0 / 47,
            ["screening"] = new System.Text.Json.Nodes.JsonArray(screened
                ? [new System.Text.Json.Nodes.JsonObject { ["m"] = 8, ["accuracy"] = 0.5, ["bpp"] = 0.2, ["psnr"] = 20.0 }, new System.Text.Json.Nodes.JsonObject { ["m"] = m, ["accuracy"] = 0.6, ["bpp"] = 0.3, ["psnr"] = 21.0 }]
                : []),
            ["channel_order"] = new System.Text.Json.Nodes.JsonArray(),
            ["curve"] = new System.Text.Json.Nodes.JsonArray(curve.Select(p => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["keep"] = p.Keep, ["channels"] = p.Channels, ["accuracy"] = p.Accuracy, ["bpp"] = p.Bpp, ["psnr"] = 22.5, ["crops"] = 188,
            }).ToArray()),
        };
        File.WriteAllText(Path.Combine(dir, "classification.json"), json.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "train.jsonl"), "{\"step\":1}\n");
        return dir;
    }

    [Fact]
    public void The_report_compares_accuracy_at_each_rate_against_the_first_run_and_keeps_its_inputs()
    {
        var plain = Folder("plain-e2e", 0, [(1.0, 48, 0.70, 0.50), (0.5, 24, 0.60, 0.30)], m: 48);
        var three = Folder("three-step", 1, [(1.0, 16, 0.75, 0.40), (0.5, 8, 0.55, 0.25)], screened: true);
        var doc = Path.Combine(Path.GetTempPath(), "cofusfl-clsreport-" + Guid.NewGuid().ToString("N")[..8], "results-joint.md");
        Directory.CreateDirectory(Path.GetDirectoryName(doc)!);
        var text = CoFUsfl.Simulation.Metrics.ClassificationReport.Write([plain, three], doc, "Joint");
        text.Should().Contain("| three-step | 16 of 16 (100 %) | 75.0 % | 6.3 | +5.0 pt | 0.400 | 22.50 |");
        text.Should().Contain("| three-step | 8 of 16 (50 %) | 55.0 % | 7.3 | −5.0 pt | 0.250 | 22.50 |");
        text.Should().Contain("| plain-e2e | 24 of 48 (50 %) | 60.0 % | 7.1 | – |");
        text.Should().Contain("| three-step | 16 | 60.0 % | 0.300 | 21.00 | yes |");
        text.Should().Contain("| plain-e2e | 1 | 0 | – | 48 | 47 | 3 | 53.2 % |");
        File.Exists(Path.Combine(Path.GetDirectoryName(doc)!, "results-joint-plots", "accuracy_vs_bpp.svg")).Should().BeTrue();
        var archived = Path.Combine(Path.GetDirectoryName(doc)!, "results-joint-plots", "runs", "three-step", "classification.json");
        File.ReadAllText(archived).Should().Be(File.ReadAllText(Path.Combine(three, "classification.json")));
        // Regenerated from its own archive: the same tables.
        var again = CoFUsfl.Simulation.Metrics.ClassificationReport.Write(
            [Path.GetDirectoryName(archived)!.Replace("three-step", "plain-e2e"), Path.GetDirectoryName(archived)!], doc, "Joint");
        again.Split('\n').Where(l => l.StartsWith('|')).Should().Equal(text.Split('\n').Where(l => l.StartsWith('|')));

        File.WriteAllText(Path.Combine(plain, "classification.json"), "{\"m\": 4}");
        FluentActions.Invoking(() => CoFUsfl.Simulation.Metrics.ClassificationReport.Write([plain], doc, "Joint"))
            .Should().Throw<InvalidDataException>().WithMessage("*plain-e2e*classification.json: not a classification result*");
        FluentActions.Invoking(() => CoFUsfl.Simulation.Metrics.ClassificationReport.Write([Path.GetTempPath()], doc, "Joint"))
            .Should().Throw<InvalidDataException>().WithMessage("*no classification.json*");
    }
}
