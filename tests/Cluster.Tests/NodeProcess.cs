using System.Collections.Concurrent;
using System.Diagnostics;
using CoFUsfl.Actors;
using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Cluster.Tests.Messages;

namespace CoFUsfl.Cluster.Tests;

/// <summary>
/// A real node in a child process for the failure specs: <c>dotnet CoFUsfl.Cluster.Tests.dll node NAME</c> joins the broker
/// named by COFUSFL_BROKER_URI/_USER/_PASSWORD/_VHOST, hosts an echo actor at NAME/user/echo, prints "ready" and runs
/// until its standard input closes (a clean leave) or it is killed.
/// </summary>
public static class NodeProcess
{
    public static int Main(string[] args)
    {
        if (args is not ["node", var name]) { Console.Error.WriteLine("usage: node NAME"); return 2; }
        var options = new RabbitMqOptions
        {
            Uri = new Uri(Environment.GetEnvironmentVariable("COFUSFL_BROKER_URI")!),
            VirtualHost = Environment.GetEnvironmentVariable("COFUSFL_BROKER_VHOST"),
            HeartbeatInterval = TimeSpan.FromMilliseconds(250), UnreachableAfter = TimeSpan.FromSeconds(2),
            BrokerHeartbeat = TimeSpan.FromSeconds(60),   // a stopped process keeps its connection for the whole spec
        };
        using var transport = RabbitMqTransport.Connect(options);
        using var system = ActorSystem.Create(new ActorSystemOptions { NodeName = name, Transport = transport });
        system.ActorOf(Props.Create(() => new Recorder(new BlockingCollection<Numbered>(), true)), "echo");
        Console.WriteLine("ready");
        Console.Out.Flush();
        while (Console.In.ReadLine() is not null) { }
        return 0;
    }

    /// <summary>Starts <c>node NAME</c> in a child process and waits for its "ready" line.</summary>
    public static Process Start(BrokerFixture broker, string name)
    {
        var self = typeof(NodeProcess).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet", [self, "node", name])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["COFUSFL_BROKER_URI"] = broker.Uri.ToString();
        psi.Environment["COFUSFL_BROKER_USER"] = broker.User;
        psi.Environment["COFUSFL_BROKER_PASSWORD"] = broker.Password;
        psi.Environment["COFUSFL_BROKER_VHOST"] = broker.VirtualHost;
        var p = Process.Start(psi)!;
        var line = p.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result != "ready")
        {
            try { p.Kill(); } catch (InvalidOperationException) { /* already gone */ }
            throw new InvalidOperationException($"node process {name} did not become ready: {p.StandardError.ReadToEnd()}");
        }
        return p;
    }
}
