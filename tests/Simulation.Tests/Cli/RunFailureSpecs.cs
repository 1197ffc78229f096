using System.Text.Json.Nodes;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>
/// Runs that cannot go on, or whose actors fail. Broken training images: Clients decode lazily, so a broken image used to show only as "0 clients completed,
/// N dropped" round after round (seen on a GPU node without libturbojpeg). Now a folder whose images cannot be decoded
/// at all, or any broken image of a folder, stops the run before it starts.
/// </summary>
public class RunFailureSpecs : IDisposable
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
    public void A_broken_image_that_is_not_the_first_of_its_folder_also_stops_the_run_before_it_starts()
    {
        // Every training image is decoded before round 1: a truncated one no longer fails its clients round after round.
        var good = File.ReadAllBytes(Good);
        var folder = Folder(("a.jpg", good), ("b.jpg", good), ("c.jpg", good[..(good.Length / 8)]), ("d.jpg", good));
        var r = CliProcess.Run(_dir.Path, "run", Config(folder), "-D", "cofusfl.training.local-steps=6", "--out", _dir["run"], "--quiet");
        r.ShouldFailClearly("training folder " + folder, "c.jpg");
        Directory.Exists(_dir["run"]).Should().BeFalse("nothing is written for a run that cannot start:\n{0}", r);
    }

    [Fact]
    public void A_diverging_run_stops_with_a_clear_error_and_keeps_its_metrics()
    {
        var config = _dir.Write("div.conf", TinyConfig.Run(rounds: 3, extra: "training { local-steps = 4, client-optimizer.lr = 10, server-optimizer.lr = 10 }"));
        var r = CliProcess.Run(_dir.Path, "run", config, "--out", _dir["run"], "--quiet");
        r.ExitCode.Should().Be(1, r.ToString());
        r.Stderr.Should().Contain("error: round 1: training diverged").And.Contain("client-optimizer.lr (10)").And.NotContain("COFUSFL_DEBUG");
        var lines = File.ReadAllLines(Path.Combine(_dir["run"], "metrics.jsonl"));
        lines.Should().ContainSingle("the round that diverged is recorded, and no later one runs");
        JsonNode.Parse(lines[0])!["diverged"]!.GetValue<string>().Should().NotBeEmpty();
    }
}
