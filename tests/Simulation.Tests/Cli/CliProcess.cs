using System.Diagnostics;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>What one <c>cofusfl</c> invocation printed and returned.</summary>
public sealed record CliResult(string[] Args, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() =>
        $"cofusfl {string.Join(' ', Args)} → exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    /// <summary>Asserts success (exit 0), showing both streams when it was not.</summary>
    public CliResult ShouldSucceed()
    {
        ExitCode.Should().Be(0, "the command should succeed:\n{0}", this);
        return this;
    }

    /// <summary>
    /// Asserts a user error: non-zero exit, every fragment in stderr, one handled message (no stack trace, not the
    /// catch-all "unexpected exception" line that points at COFUSFL_DEBUG).
    /// </summary>
    public CliResult ShouldFailClearly(params string[] fragments)
    {
        ExitCode.Should().NotBe(0, "the command should fail:\n{0}", this);
        foreach (var f in fragments) Stderr.Should().Contain(f, "the message should name it:\n{0}", this);
        Stderr.Should().NotMatchRegex(@"(?m)^\s+at \S+\(", "no stack trace:\n{0}", this);
        Stderr.Should().NotContain("COFUSFL_DEBUG", "a user error is reported as such, not as an unexpected exception:\n{0}", this);
        Stderr.Trim().Should().NotBeEmpty();
        return this;
    }
}

/// <summary>
/// Runs the built CLI (<c>dotnet cofusfl.dll</c>, copied into this test project's output) as a child process, the way a
/// user runs it: its own process, working directory, exit code and streams.
/// </summary>
public static class CliProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "cofusfl.dll");

    public static CliResult Run(string workingDirectory, params string[] args)
    {
        using var p = Start(workingDirectory, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"cofusfl {string.Join(' ', args)} did not finish in 3 minutes");
        }
        p.WaitForExit();
        return new CliResult(args, p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts <c>cofusfl</c> without waiting; both streams are redirected, so read them (a full pipe blocks the child).</summary>
    public static Process Start(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("COFUSFL_DEBUG");
        psi.Environment.Remove("COFUSFL_DATA");
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
    }
}

/// <summary>The checkout's folders the CLI tests read (never write).</summary>
public static class Repo
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CoFUsfl.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no CoFUsfl.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => RootDir.Value;
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));
    public static string Datasets => Path.Combine(Shared, "datasets");
    public static string Kodak => Path.Combine(Datasets, "kodak");
    public static string KodakImage(int i) => Path.Combine(Kodak, $"kodim{i:D2}.png");
    public static string ReferenceRd => Path.Combine(Shared, "reference", "kodak-rd");
}

/// <summary>A temporary folder, deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cofusfl-cli-" + Guid.NewGuid().ToString("N")[..10]);

    public TempFolder() => Directory.CreateDirectory(Path);

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    /// <summary>Writes <paramref name="text"/> to <paramref name="relative"/> and returns the full path.</summary>
    public string Write(string relative, string text)
    {
        var p = this[relative];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        File.WriteAllText(p, text);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Tiny HOCON configurations: seconds on two CPU cores.</summary>
public static class TinyConfig
{
    /// <summary>A 2-client split run on BSDS500 crops with a tiny hyperprior codec, evaluated on one Kodak image.</summary>
    public static string Run(string name = "tiny", int rounds = 2, string extra = "") => $$"""
        cofusfl {
          run { name = "{{name}}", rounds = {{rounds}} }
          model { n = 8, m = 12 }
          data { root = "{{Repo.Datasets}}", train = ["bsds500/train"], crop = 64, batch-size = 2 }
          training { local-steps = 2 }
          federation { clients = 2, clients-per-round = 2 }
          evaluation { limit = 1 }
          {{extra}}
        }
        """;

    /// <summary>A tiny codec trained alone for <paramref name="steps"/> steps into <paramref name="outDir"/>.</summary>
    public static string Codec(string outDir, int steps = 30) => $$"""
        cofusfl {
          model { n = 8, m = 12 }
          data { root = "{{Repo.Datasets}}", train = ["bsds500/train"], crop = 64, batch-size = 2 }
          codec-training { steps = {{steps}}, lr = 1e-3, log-every = 10, out = "{{outDir}}" }
        }
        """;
}
