using System.Text.Json.Nodes;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>
/// Broken training images. Clients decode lazily, so a broken image used to show only as "0 clients completed,
/// N dropped" round after round (seen on a GPU node without libturbojpeg). Now a folder whose images cannot be decoded
/// at all stops the run before it starts, and a broken image met mid-run is reported the first time and counted.
/// </summary>
public class DataErrorSpecs : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string Good = Path.Combine(Repo.Datasets, "bsds500", "train", "100075.jpg");

    private string Folder(params (string Name, byte[] Bytes)[] files)
    {
        var folder = _dir["images"];
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(folder, name), bytes);
        return folder;
    }

    private string Config(string folder) => _dir.Write("run.conf", TinyConfig.Run(rounds: 1).Replace("train = [\"bsds500/train\"]", $"train = [\"{folder}\"]"));

    [Fact]
    public void A_training_folder_whose_images_do_not_decode_stops_the_run_before_it_starts_naming_folder_and_file()
    {
        var folder = Folder(("a.jpg", "not a jpeg at all"u8.ToArray()), ("b.jpg", File.ReadAllBytes(Good)));
        var r = CliProcess.Run(_dir.Path, "run", Config(folder), "--out", _dir["run"], "--quiet");
        r.ShouldFailClearly("training folder " + folder, "a.jpg");
        Directory.Exists(_dir["run"]).Should().BeFalse("nothing is written for a run that cannot start:\n{0}", r);
    }

    [Fact]
    public void A_broken_image_met_mid_run_is_reported_once_and_counted_in_the_summary()
    {
        var good = File.ReadAllBytes(Good);
        var folder = Folder(("a.jpg", good), ("b.jpg", good), ("c.jpg", good[..(good.Length / 8)]), ("d.jpg", good));
        var r = CliProcess.Run(_dir.Path, "run", Config(folder), "-D", "cofusfl.training.local-steps=6", "--out", _dir["run"], "--quiet");
        r.ExitCode.Should().Be(0, "the run survives a client that fails:\n{0}", r);
        r.Stderr.Should().Contain("warning: actor").And.Contain("c.jpg");
        var lines = r.Stderr.Split('\n').Count(l => l.Contains("c.jpg", StringComparison.Ordinal));
        lines.Should().Be(1, "one cause is reported once:\n{0}", r);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir["run"], "summary.json")))!;
        var failures = summary["actor_failures"]!;
        failures["total"]!.GetValue<long>().Should().BeGreaterThanOrEqualTo(1);
        failures["causes"]!.AsArray().Single()!["cause"]!.GetValue<string>().Should().Contain("c.jpg");
        failures["causes"]![0]!["first_actor"]!.GetValue<string>().Should().Contain("client");
    }
}
