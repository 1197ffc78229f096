namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>
/// Values that are valid but probably not meant reach the user as a warning on stderr naming FILE:LINE:COLUMN and the
/// key, and the command goes on: a duration without a unit is milliseconds by HOCON's rule (<c>round-deadline = 30</c> is 30 ms).
/// </summary>
public class ConfigWarningSpecs : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Line, int Column) Position(string text, string fragment)
    {
        var lines = text.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains(fragment, StringComparison.Ordinal));
        return (line + 1, lines[line].IndexOf(fragment, StringComparison.Ordinal) + 1);
    }

    [Fact]
    public void Config_resolve_warns_about_a_duration_without_a_unit_naming_file_line_and_key()
    {
        var text = TinyConfig.Run(extra: "federation.round-deadline = 30");
        var file = _dir.Write("run.conf", text);
        var (line, column) = Position(text, "round-deadline = 30");
        column += "round-deadline = ".Length;
        var r = CliProcess.Run(_dir.Path, "config", "resolve", file, "--with-reference").ShouldSucceed();
        r.Stderr.Should().Contain($"{file}:{line}:{column}: warning: 'cofusfl.federation.round-deadline' = 30 has no unit and is read as 30 ms");
        r.Stdout.Should().Contain("round-deadline = 30", "the configuration is still printed");
    }

    [Fact]
    public void Config_resolve_warns_about_a_duration_without_a_unit_inside_a_list_element()
    {
        var file = _dir.Write("run.conf", TinyConfig.Run(extra: "faults.crashes = [{ actor = \"client-0001\", at = 5 }]"));
        CliProcess.Run(_dir.Path, "config", "resolve", file).ShouldSucceed()
            .Stderr.Should().Contain("warning: 'cofusfl.faults.crashes.0.at' = 5 has no unit");
    }

    [Fact]
    public void Run_warns_about_a_duration_without_a_unit_given_with_D_and_runs()
    {
        var file = _dir.Write("run.conf", TinyConfig.Run(rounds: 1, extra: "evaluation.enabled = off"));
        var r = CliProcess.Run(_dir.Path, "run", file, "--out", _dir["run"], "--quiet", "-D", "cofusfl.federation.round-deadline=600000").ShouldSucceed();
        r.Stderr.Should().Contain("-D cofusfl.federation.round-deadline=600000:1:").And.Contain("warning: 'cofusfl.federation.round-deadline' = 600000 has no unit");
        File.Exists(Path.Combine(_dir["run"], "summary.json")).Should().BeTrue();
    }

    [Fact]
    public void Durations_with_units_and_zero_give_no_warning()
    {
        var file = _dir.Write("run.conf", TinyConfig.Run(extra: "federation { round-deadline = 30 s, retry-timeout = 0 }"));
        CliProcess.Run(_dir.Path, "config", "resolve", file, "--with-reference").ShouldSucceed().Stderr.Should().BeEmpty();
    }
}
