using System.Diagnostics;
using CoFUsfl.Actors;
using CoFUsfl.Actors.Remote.RabbitMq;

namespace CoFUsfl.Cluster.Tests;

/// <summary>
/// A private RabbitMQ broker on loopback for the whole test assembly, started and stopped with scripts/broker.sh.
/// A broker that cannot start fails every test that needs it, with the script's own explanation: nothing is skipped.
/// </summary>
public sealed class BrokerFixture : IDisposable
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), $"cofusfl-broker-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
    public string User { get; } = "tester";
    public string Password { get; } = "pw-" + Guid.NewGuid().ToString("N")[..12];
    public string VirtualHost { get; } = "run-" + Guid.NewGuid().ToString("N")[..8];
    public Uri Uri { get; private set; } = null!;

    public BrokerFixture()
    {
        var output = Script("start");
        Uri = new Uri(output.Trim().Split('\n')[^1]);
    }

    public static string RepoRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "CoFUsfl.sln"))) return d.FullName;
            throw new InvalidOperationException($"CoFUsfl.sln not found above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>Runs scripts/broker.sh COMMAND DIR and returns its standard output; throws with its standard error on failure.</summary>
    public string Script(string command)
    {
        var psi = new ProcessStartInfo("bash", [Path.Combine(RepoRoot, "scripts", "broker.sh"), command, Dir])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["COFUSFL_BROKER_USER"] = User;
        psi.Environment["COFUSFL_BROKER_PASSWORD"] = Password;
        psi.Environment["COFUSFL_BROKER_VHOST"] = VirtualHost;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(150)))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"scripts/broker.sh {command} {Dir} did not finish in 150 s");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"scripts/broker.sh {command} {Dir} failed (exit {p.ExitCode}); the cluster tests need the Debian package rabbitmq-server:\n{stderr.Result}");
        return stdout.Result;
    }

    /// <summary>Options for a node on this broker; <paramref name="tweak"/> adjusts them.</summary>
    public RabbitMqOptions Options(Func<RabbitMqOptions, RabbitMqOptions>? tweak = null)
    {
        var o = new RabbitMqOptions
        {
            Uri = Uri, User = User, Password = Password, VirtualHost = VirtualHost,
            HeartbeatInterval = TimeSpan.FromMilliseconds(250), UnreachableAfter = TimeSpan.FromSeconds(2),
            BrokerHeartbeat = TimeSpan.FromSeconds(5), DrainTimeout = TimeSpan.FromSeconds(5),
        };
        return tweak is null ? o : tweak(o);
    }

    /// <summary>An actor system named <paramref name="name"/> on this broker, with its transport.</summary>
    public (ActorSystem System, RabbitMqTransport Transport) Node(string name, Func<RabbitMqOptions, RabbitMqOptions>? tweak = null)
    {
        var t = RabbitMqTransport.Connect(Options(tweak));
        var s = ActorSystem.Create(new ActorSystemOptions { NodeName = name, Transport = t });
        t.RecordDeadLettersIn(s);
        return (s, t);
    }

    public void Dispose()
    {
        try { Script("stop"); }
        finally
        {
            try { Directory.Delete(Dir, recursive: true); }
            catch (IOException) { /* a log file still open by a dying broker: the temp dir is cleaned by the OS */ }
        }
    }
}

[CollectionDefinition("broker")]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>;
