using System.CommandLine;
using System.Runtime.InteropServices;
using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Simulation.Cluster;
using CoFUsfl.Simulation.Configuration;

namespace CoFUsfl.Cli.Commands;

/// <summary>
/// <c>cofusfl node --config FILE [-D path=value]…</c>: a worker node of a cluster run. Joins the broker of
/// <c>cofusfl.cluster</c> as <c>cofusfl.cluster.node.name</c> and hosts the clients the coordinator places on it,
/// until the coordinator ends the run (exit 0) or SIGTERM/Ctrl-C (a clean leave, exit 0).
/// </summary>
[CliCommand]
public static class NodeCommand
{
    public static Command Create()
    {
        var file = new Option<string>("--config") { Description = "The run's HOCON configuration (the coordinator's: same seed, data and clients).", Required = true };
        var defines = CliConfig.DefineOption();
        var command = new Command("node", "Run a worker node of a cluster run: host the clients the coordinator places here.")
        {
            file, defines,
        };
        command.SetAction(r =>
        {
            var path = r.GetValue(file)!;
            var config = CliConfig.Load(path, CliConfig.Defines(r, defines));
            SimulationOptions options;
            ClusterSettings cluster;
            try
            {
                options = SimulationConfig.Bind(config, Console.Error.WriteLine);
                cluster = ClusterSettings.Bind(config, Console.Error.WriteLine);
            }
            catch (Exception e) when (e is CoFUsfl.Hocon.HoconException or ArgumentException) { throw new CliException($"{path}: {e.Message}"); }
            using var stop = new CancellationTokenSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            try
            {
                ClusterWorker.Run(options, cluster, line => Console.WriteLine(line), stop.Token);
            }
            catch (Exception e) when (e is ArgumentException or ClusterRunException or BrokerAuthenticationException or BrokerConnectionException
                                           or DirectoryNotFoundException or InvalidDataException)
            {
                throw new CliException($"error: {e.Message}", 1);
            }
            return 0;
        });
        return command;
    }
}
