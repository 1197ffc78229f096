using System.CommandLine;
using System.Text.Json.Nodes;
using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Hocon;
using CoFUsfl.Simulation.Cluster;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Runner;
using Spectre.Console;

namespace CoFUsfl.Cli.Commands;

/// <summary><c>cofusfl run CONFIG [-D path=value]… [--out DIR] [--resume]</c>: one CoF U-SFL simulation.</summary>
[CliCommand]
public static class RunCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("config") { Description = "HOCON configuration (see hocon/reference.conf for every key)." };
        var defines = CliConfig.DefineOption();
        var outDir = new Option<string?>("--out") { Description = "Run folder (default: <cofusfl.run.out>/<cofusfl.run.name>)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run folder from its latest checkpoint." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress output." };
        var profile = new Option<bool>("--profile") { Description = "Print where the wall time went (summary.json \"profile\") at the end." };
        var command = new Command("run", "Run a U-shaped split federated learning simulation (in process; cluster mode with cofusfl.cluster).")
        {
            file, defines, outDir, resume, quiet, profile,
        };
        command.SetAction(r =>
        {
            var config = CliConfig.Load(r.GetValue(file)!, CliConfig.Defines(r, defines));
            var options = BindAndValidate(config, r.GetValue(file)!);
            ClusterSettings cluster;
            try { cluster = ClusterSettings.Bind(config, Console.Error.WriteLine); }
            catch (Exception e) when (e is HoconException or ArgumentException) { throw new CliException($"{r.GetValue(file)}: {e.Message}"); }
            if (cluster.Enabled && options.Runtime.Clock != "real")
                throw new CliException($"{r.GetValue(file)}: cofusfl.cluster.enabled = on needs cofusfl.runtime.clock = real (got {options.Runtime.Clock}): " +
                    "actors on several machines cannot share a virtual clock");
            var dir = r.GetValue(outDir) ?? Path.Combine(options.Run.Out, options.Run.Name);
            if (!r.GetValue(resume) && Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
                dir = NextFree(dir);
            var q = r.GetValue(quiet);
            var request = new RunRequest(dir, r.GetValue(resume), SavedConfig(config));
            RunOutcome outcome;
            try
            {
                IClientPlacement? placement = null;
                if (cluster.Enabled)
                {
                    // The coordinator's node announces itself as such: only "worker" members get clients.
                    var transport = RabbitMqTransport.Connect(cluster.Transport with { Role = "coordinator" });
                    placement = new ClusterPlacement(cluster, transport, q ? _ => { } : line => Console.WriteLine(line));
                }
                outcome = q || Console.IsOutputRedirected
                    ? SimulationRunner.Run(options, request, new RunHooks { Log = q ? null : line => Console.WriteLine(line) }, null, null, placement)
                    : RunWithProgress(options, request, placement);
            }
            catch (Exception e) when (e is ArgumentException or DirectoryNotFoundException or FileNotFoundException or InvalidDataException)
            {
                throw new CliException($"error: {e.Message}");
            }
            catch (Exception e) when (e is ClusterRunException or BrokerAuthenticationException or BrokerConnectionException or TrainingDivergedException
                                           or RunFolderInUseException)
            {
                throw new CliException($"error: {e.Message}", 1);
            }
            Report(outcome, q);
            if (r.GetValue(profile)) ReportProfile(outcome.Summary);
            return 0;
        });
        return command;
    }

    /// <summary>Progress bars (rounds with ETA, clients of the current round) and a live summary line.</summary>
    private static RunOutcome RunWithProgress(SimulationOptions options, RunRequest request, IClientPlacement? placement)
    {
        RunOutcome? outcome = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(p =>
            {
                var rounds = p.AddTask("rounds", maxValue: options.Run.Rounds);
                var clients = p.AddTask("clients", maxValue: 1);
                var summary = p.AddTask("[grey]starting[/]", maxValue: 1).IsIndeterminate();
                var hooks = new RunHooks
                {
                    Log = line => summary.Description = Markup.Escape(line),
                    Warn = line => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(line)}[/]"),
                    RoundStarted = (round, n) =>
                    {
                        clients.Description = $"clients, round {round}";
                        clients.MaxValue = Math.Max(1, n);
                        clients.Value = 0;
                    },
                    ClientFinished = _ => clients.Increment(1),
                    RoundCompleted = (round, _) => rounds.Value = round,
                };
                outcome = SimulationRunner.Run(options, request, hooks, null, null, placement);
                rounds.Value = rounds.MaxValue;
                summary.Value = 1;
                summary.StopTask();
            });
        return outcome!;
    }

    /// <summary>
    /// Binds <c>cofusfl</c> and checks its values before anything is loaded or written. Binder errors already carry
    /// FILE:LINE:COLUMN; range errors name the key, prefixed here with the file. Warnings (a duration without a unit) go to stderr.
    /// </summary>
    internal static SimulationOptions BindAndValidate(Config config, string file)
    {
        try
        {
            var options = SimulationConfig.Bind(config, Console.Error.WriteLine);
            SimulationRunner.Validate(options);
            return options;
        }
        catch (HoconException e) { throw new CliException(e.Message); }
        catch (ArgumentException e) { throw new CliException($"{file}: {e.Message}"); }
    }

    /// <summary>
    /// The resolved configuration under its <c>cofusfl</c> root, so <c>cofusfl run RUN/config.conf</c> reproduces the run;
    /// without secrets (<see cref="ClusterSettings.Redacted"/>): a rerun takes the broker password from the environment.
    /// </summary>
    internal static string SavedConfig(Config config) =>
        Config.Empty.WithValue("cofusfl", ClusterSettings.Redacted(config).GetObject("cofusfl")).Render();

    private static string NextFree(string dir)
    {
        for (var i = 2; ; i++)
        {
            var candidate = $"{dir}-{i}";
            if (!Directory.Exists(candidate)) return candidate;
        }
    }

    private static void Report(RunOutcome outcome, bool quiet)
    {
        var s = outcome.Summary;
        if (quiet)
        {
            Console.WriteLine(outcome.RunDirectory);
            return;
        }
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        void Row(string k, string v) => table.AddRow(Markup.Escape(k), Markup.Escape(v));
        Row("rounds", s["rounds"]?.ToString() ?? "");
        Row("bytes, transfers [1]-[4]", $"{s["bytes_transfers"]:N0}");
        Row("bytes, all messages", $"{s["bytes_total"]:N0}");
        Row("client updates counted", s["client_updates_counted"]?.ToString() ?? "");
        Row("lost updates", s["lost_updates"]?.ToString() ?? "");
        Row("simulated time", $"{s["simulated_time_s"]?.GetValue<double>():F1} s");
        if (s["kodak"] is { } k)
        {
            Row("eval PSNR (dB)", $"{k["psnr"]?.GetValue<double>():F2}");
            Row("eval MS-SSIM", $"{k["ms_ssim"]?.GetValue<double>():F4}");
            Row("eval bpp (bytes written)", $"{k["bpp"]?.GetValue<double>():F4}");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"run folder: [bold]{Markup.Escape(outcome.RunDirectory)}[/]");
    }

    /// <summary>The wall-time profile, largest part first, with its share of the session's wall time.</summary>
    private static void ReportProfile(JsonObject summary)
    {
        if (summary["profile"] is not JsonObject p) return;
        var parts = p.Select(kv => (Name: kv.Key, Seconds: kv.Value!.GetValue<double>())).ToList();
        var wall = Math.Max(1e-9, parts.Sum(x => x.Seconds));
        Console.WriteLine("wall time by part (this session):");
        foreach (var (name, seconds) in parts.OrderByDescending(x => x.Seconds))
            Console.WriteLine(FormattableString.Invariant($"  {name,-20} {seconds,9:F2} s  {100 * seconds / wall,5:F1} %"));
        if (summary["gc"] is JsonObject gc)
            Console.WriteLine(FormattableString.Invariant(
                $"garbage collections: {gc["gen0"]} gen0, {gc["gen1"]} gen1, {gc["gen2"]} gen2, {gc["pause_s"]!.GetValue<double>():F2} s paused (within the parts), {gc["allocated_mb"]!.GetValue<double>():F0} MB allocated"));
    }
}
