namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>
/// Bad input to <c>cofusfl run</c> and <c>cofusfl codec train</c>: a non-zero exit and one clear line naming where
/// (file, line, column, key or folder), no stack trace, and no run folder left behind.
/// </summary>
public class ConfigErrorSpecs : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Runs <paramref name="text"/> as bad.conf; returns the result after checking that no run folder was written.</summary>
    private CliResult RunConfig(string text, params string[] extra)
    {
        var config = _dir.Write("bad.conf", text);
        var r = CliProcess.Run(_dir.Path, ["run", config, "--out", _dir["run"], "--quiet", .. extra]);
        Directory.Exists(_dir["run"]).Should().BeFalse("a rejected configuration writes no run folder:\n{0}", r);
        return r;
    }

    private string Bad => _dir["bad.conf"];

    [Fact]
    public void An_unknown_key_is_named_at_its_line_and_column_with_the_nearest_known_key()
    {
        var text = TinyConfig.Run(extra: "training { local-stpes = 3 }");
        var lines = text.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains("local-stpes", StringComparison.Ordinal));
        var column = lines[line].IndexOf("local-stpes", StringComparison.Ordinal);
        RunConfig(text).ShouldFailClearly($"{Bad}:{line + 1}:{column + 1}: unknown key 'cofusfl.training.local-stpes'",
            "did you mean 'cofusfl.training.local-steps'?");
    }

    [Fact]
    public void Malformed_HOCON_is_reported_as_FILE_LINE_COLUMN()
    {
        var r = RunConfig("cofusfl {\n  run { rounds = 2 }\n  model { n = 8,, m = 12 }\n}\n");
        r.ShouldFailClearly();
        r.Stderr.Should().MatchRegex($@"^{System.Text.RegularExpressions.Regex.Escape(Bad)}:3:\d+: ", "FILE:LINE:COLUMN first:\n{0}", r);
    }

    [Fact]
    public void A_value_of_the_wrong_type_names_FILE_LINE_COLUMN_once()
    {
        var r = RunConfig("cofusfl.run.rounds = \"two\"\n");
        r.ShouldFailClearly("'cofusfl.run.rounds'");
        r.Stderr.Trim().Should().StartWith($"{Bad}:1:").And.Subject.Split(Bad).Should().HaveCount(2, "the file is named once:\n{0}", r);
    }

    [Fact]
    public void A_split_head_of_0_is_rejected_naming_the_key()
    {
        RunConfig(TinyConfig.Run(extra: "split.head = 0")).ShouldFailClearly("cofusfl.split.head = 0");
    }

    [Fact]
    public void A_crop_that_is_not_a_multiple_of_64_is_rejected_naming_the_file_and_key()
    {
        RunConfig(TinyConfig.Run(extra: "data.crop = 50")).ShouldFailClearly(Bad, "cofusfl.data.crop = 50", "multiple of 64");
    }

    [Fact]
    public void An_unknown_feature_codec_is_rejected_naming_the_key_and_the_choices()
    {
        RunConfig(TinyConfig.Run(extra: "split.features.uplink = \"zip\""))
            .ShouldFailClearly("cofusfl.split.features.uplink", "'zip'", "float32, int8, entropy");
    }

    [Fact]
    public void A_bad_value_given_with_D_is_rejected_like_one_in_the_file()
    {
        RunConfig(TinyConfig.Run(), "-D", "cofusfl.federation.clients-per-round=5")
            .ShouldFailClearly("cofusfl.federation.clients-per-round = 5", "between 1 and clients (2)");
    }

    [Fact]
    public void A_missing_training_folder_is_named()
    {
        RunConfig(TinyConfig.Run().Replace("bsds500/train", "no-such-images"))
            .ShouldFailClearly("training folder 'no-such-images'", Path.Combine(Repo.Datasets, "no-such-images"));
    }

    [Fact]
    public void A_missing_configuration_file_is_named()
    {
        var missing = _dir["missing.conf"];
        CliProcess.Run(_dir.Path, "run", missing, "--quiet").ShouldFailClearly(missing, "not found");
        Directory.GetFileSystemEntries(_dir.Path).Should().BeEmpty("nothing is written, not even the default runs/ folder");
    }

    [Fact]
    public void Codec_train_rejects_a_bad_value_naming_the_file_and_key()
    {
        var config = _dir.Write("codec.conf", TinyConfig.Codec(_dir["codec"]).Replace("crop = 64", "crop = 50"));
        CliProcess.Run(_dir.Path, "codec", "train", config).ShouldFailClearly(config, "cofusfl.data.crop = 50");
        Directory.Exists(_dir["codec"]).Should().BeFalse();
    }

    [Fact]
    public void Codec_train_names_a_missing_training_folder()
    {
        var config = _dir.Write("codec.conf", TinyConfig.Codec(_dir["codec"]).Replace("bsds500/train", "no-such-images"));
        CliProcess.Run(_dir.Path, "codec", "train", config).ShouldFailClearly("training folder 'no-such-images'");
    }

    [Theory]
    [InlineData("faults.rules = [{ from = \"client\", to = \"server\", dorp = 0.5 }]", "cofusfl.faults.rules.0.dorp", "cofusfl.faults.rules.0.drop")]
    [InlineData("faults.rules = [{ delay { distribution = exponential, maen = 20 ms } }]", "cofusfl.faults.rules.0.delay.maen", "cofusfl.faults.rules.0.delay.mean")]
    [InlineData("faults.partitions = [{ side-a = [\"client\"], side-b = [\"server\"], duraton = 5 s }]", "cofusfl.faults.partitions.0.duraton", "cofusfl.faults.partitions.0.duration")]
    [InlineData("faults.crashes = [{ actor = \"client-0001\", at = 5 s, mdoe = stop }]", "cofusfl.faults.crashes.0.mdoe", "cofusfl.faults.crashes.0.mode")]
    [InlineData("clients.profiles = [{ name = \"default\" }, { name = \"slow\", availabilty = 0.5 }]", "cofusfl.clients.profiles.1.availabilty", "cofusfl.clients.profiles.1.availability")]
    public void An_unknown_key_in_a_list_element_is_named_at_its_line_and_column_with_the_nearest_known_key(string setting, string key, string suggestion)
    {
        var text = TinyConfig.Run(extra: setting);
        var lines = text.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains(setting, StringComparison.Ordinal));
        var typo = key[(key.LastIndexOf('.') + 1)..];
        var column = lines[line].IndexOf(typo + " =", StringComparison.Ordinal);
        RunConfig(text).ShouldFailClearly($"{Bad}:{line + 1}:{column + 1}: unknown key '{key}'", $"did you mean '{suggestion}'?");
    }

    [Fact]
    public void Two_billion_clients_are_rejected_at_once_naming_the_key_and_the_maximum()
    {
        RunConfig(TinyConfig.Run(), "-D", "cofusfl.federation.clients=2147483647", "-D", "cofusfl.federation.clients-per-round=2")
            .ShouldFailClearly(Bad, "cofusfl.federation.clients = 2147483647", "between 1 and 1000000");
    }

    [Fact]
    public void A_file_nested_a_hundred_thousand_deep_is_an_error_at_its_position_not_a_crash()
    {
        var r = RunConfig("cofusfl.run.name = " + new string('[', 100_000) + new string(']', 100_000) + "\n");
        r.ShouldFailClearly($"{Bad}:1:", "nested deeper than 256 levels");
        r.ExitCode.Should().Be(2);
    }
}
