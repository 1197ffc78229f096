using CoFUsfl.Simulation.Cluster;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>
/// Broker credentials given on the command line or in a file never reach the run folder or the console: config.conf
/// holds the configuration without them (a rerun takes the password from the environment) and only its owner can read it.
/// </summary>
public class SecretSpecs : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Password = "pw-3f9c2a";
    private const string UriPassword = "uripw-81d7e0";

    [Fact]
    public void A_run_given_a_broker_password_with_D_leaves_no_trace_of_it_in_the_run_folder_or_the_output()
    {
        var file = _dir.Write("run.conf", TinyConfig.Run(rounds: 1, extra: "evaluation.enabled = off"));
        var run = _dir["run"];
        var r = CliProcess.Run(_dir.Path, "run", file, "--out", run, "--quiet",
            "-D", $"cofusfl.cluster.broker.password={Password}",
            "-D", $"cofusfl.cluster.broker.uri=\"amqp://alice:{UriPassword}@broker.example:5672/runs\"").ShouldSucceed();

        foreach (var f in Directory.GetFiles(run, "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(f);
            var text = System.Text.Encoding.Latin1.GetString(bytes);
            text.Should().NotContain(Password, $"{f} must not hold the password").And.NotContain(UriPassword, $"{f} must not hold the URI's password");
        }
        (r.Stdout + r.Stderr).Should().NotContain(Password).And.NotContain(UriPassword);

        var saved = File.ReadAllText(Path.Combine(run, "config.conf"));
        saved.Should().Contain("\"amqp://alice@broker.example:5672/runs\"", "the URI keeps everything but the password")
            .And.MatchRegex(@"password\s*=\s*""""");
        if (!OperatingSystem.IsWindows())
            File.GetUnixFileMode(Path.Combine(run, "config.conf")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public void A_broker_URI_that_does_not_parse_is_named_without_its_password()
    {
        var file = _dir.Write("run.conf", TinyConfig.Run());
        CliProcess.Run(_dir.Path, "run", file, "--out", _dir["run"], "--quiet", "-D", $"cofusfl.cluster.broker.uri=\"amqp://alice:{UriPassword}@[broken\"")
            .ShouldFailClearly("cofusfl.cluster.broker.uri", "amqp://alice@[broken")
            .Stderr.Should().NotContain(UriPassword);
    }

    [Theory]
    [InlineData("amqp://user:secret@host:5672/vh", "amqp://user@host:5672/vh")]
    [InlineData("amqps://user:s%40cret@host/", "amqps://user@host/")]
    [InlineData("amqp://user@host/", "amqp://user@host/")]
    [InlineData("amqp://host:5672/", "amqp://host:5672/")]
    [InlineData("amqp://host:5672/vh@x", "amqp://host:5672/vh@x")]
    [InlineData("amqp://u:pa/ss@host/", "amqp://u@host/")]
    [InlineData("not a uri", "not a uri")]
    public void The_password_of_a_URI_user_info_is_removed_and_nothing_else(string uri, string expected)
    {
        ClusterSettings.WithoutPassword(uri).Should().Be(expected);
    }
}
