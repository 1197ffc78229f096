using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary><c>cofusfl --help</c>, <c>--version</c> and <c>info</c>, run as a user runs them.</summary>
public class CliBasicsSpecs : IDisposable
{
    private readonly TempFolder _dir = new();
    private static readonly string Version = typeof(CoFUsfl.Cli.CommandCatalog).Assembly.GetName().Version!.ToString(3);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Help_lists_every_command()
    {
        var r = CliProcess.Run(_dir.Path, "--help").ShouldSucceed();
        // "  name <args>  description": a command starts two spaces in; wrapped descriptions are indented further.
        var commands = r.Stdout.Split('\n').SkipWhile(l => !l.StartsWith("Commands:", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => l.Trim().Length > 0)
            .Select(l => Regex.Match(l, @"^  (\S+)")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        commands.Should().BeEquivalentTo(["bench", "codec", "compare", "config", "fuzz", "info", "node", "report", "run"]);
    }

    [Fact]
    public void Version_prints_the_informational_version_of_the_build()
    {
        var expected = typeof(CoFUsfl.Cli.CommandCatalog).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        var r = CliProcess.Run(_dir.Path, "--version").ShouldSucceed();
        r.Stdout.Trim().Should().Be(expected);
        expected.Should().StartWith(Version, "the informational version is the version (plus the commit where built from git)");
    }

    [Fact]
    public void Info_json_is_one_JSON_object_with_the_libtorch_version_and_CUDA_availability()
    {
        var r = CliProcess.Run(_dir.Path, "info", "--json").ShouldSucceed();
        var o = JsonNode.Parse(r.Stdout)!.AsObject();
        o["libtorch"]!.GetValue<string>().Should().MatchRegex(@"^\d+\.\d+(\.\d+)?");
        o["cuda_available"]!.GetValueKind().Should().BeOneOf(System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False);
        o["cuda_devices"]!.GetValue<int>().Should().BeGreaterThanOrEqualTo(o["cuda_available"]!.GetValue<bool>() ? 1 : 0);
        o["cofusfl"]!.GetValue<string>().Should().Be(Version);
        File.Exists(o["native_library"]!.GetValue<string>()).Should().BeTrue();
    }
}
