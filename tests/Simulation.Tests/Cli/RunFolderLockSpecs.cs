using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>
/// One run folder, one run at a time: a second <c>cofusfl run</c> on a folder in use stops with a message naming the
/// folder and touches nothing; a lock left by a process that died never blocks.
/// </summary>
public class RunFolderLockSpecs(TinyRunFixture finished) : IClassFixture<TinyRunFixture>, IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Every file under <paramref name="dir"/> with its length and last write time.</summary>
    private static string[] Snapshot(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
        .Select(f => $"{Path.GetRelativePath(dir, f)} {new FileInfo(f).Length} {File.GetLastWriteTimeUtc(f):O}").Order(StringComparer.Ordinal).ToArray();

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
    }

    [Fact]
    public void A_second_run_started_while_the_first_runs_in_the_folder_fails_naming_the_folder()
    {
        var config = _dir.Write("long.conf", TinyConfig.Run(rounds: 200, extra: "evaluation.enabled = off"));
        var run = _dir["run"];
        using var first = CliProcess.Start(_dir.Path, "run", config, "--out", run, "--quiet");
        var firstOut = first.StandardOutput.ReadToEndAsync();
        var firstErr = first.StandardError.ReadToEndAsync();
        try
        {
            // config.conf is written once the first run holds the folder.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (!File.Exists(Path.Combine(run, "config.conf")) && !first.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(50);
            first.HasExited.Should().BeFalse("the first run is still running");

            var second = CliProcess.Run(_dir.Path, "run", config, "--out", run, "--resume", "--quiet");
            second.ShouldFailClearly($"run folder {run} is in use");
            first.HasExited.Should().BeFalse("the first run goes on:\n{0}", firstErr.IsCompleted ? firstErr.Result : "");
        }
        finally
        {
            if (!first.HasExited) first.Kill(entireProcessTree: true);
            first.WaitForExit();
        }

        // The first run died holding the lock; the OS released it with the process.
        using var again = RunFolderLock.Acquire(run);
    }

    [Fact]
    public void A_resume_of_a_folder_in_use_touches_nothing()
    {
        finished.Result.ShouldSucceed();
        var run = _dir["run"];
        CopyTree(finished.RunDir, run);
        var before = Snapshot(run);
        using (RunFolderLock.Acquire(run))
        {
            CliProcess.Run(_dir.Path, "run", finished.Config, "--out", run, "--resume", "-D", "cofusfl.run.rounds=3", "--quiet")
                .ShouldFailClearly($"run folder {run} is in use", "another --out");
            Snapshot(run).Should().Equal(before, "a run that cannot have the folder changes nothing in it");
        }
    }

    [Fact]
    public void A_lock_file_left_behind_without_a_holder_does_not_block()
    {
        finished.Result.ShouldSucceed();
        var run = _dir["run"];
        CopyTree(finished.RunDir, run);
        File.Exists(Path.Combine(run, RunFolderLock.FileName)).Should().BeTrue("a finished run leaves its lock file");
        CliProcess.Run(_dir.Path, "run", finished.Config, "--out", run, "--resume", "-D", "cofusfl.run.rounds=3", "-D", "cofusfl.evaluation.enabled=off", "--quiet")
            .ShouldSucceed();
    }
}
