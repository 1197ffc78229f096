using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Hocon;
using CoFUsfl.Simulation.Cluster;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Cluster.Tests;

/// <summary>
/// The simulation in cluster mode: the coordinator (server, aggregator, coordinator) in this process, the clients in
/// worker processes running the real CLI (<c>cofusfl node</c>), over the private broker.
/// </summary>
[Collection("broker")]
public class SimulationClusterSpecs(BrokerFixture broker)
{
    private static string DataRoot
    {
        get
        {
            var root = Path.GetFullPath(Path.Combine(BrokerFixture.RepoRoot, "..", "shared", "datasets"));
            if (!Directory.Exists(Path.Combine(root, "bsds500", "train")))
                throw new DirectoryNotFoundException($"the cluster simulation specs train on {root}/bsds500/train, which is missing");
            return root;
        }
    }

    /// <summary>The CLI built next to this assembly's configuration (the project reference builds it first).</summary>
    private static string Cli
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;   // bin/<Configuration>/net10.0
            var dll = Path.Combine(BrokerFixture.RepoRoot, "src", "Cli", "bin", configuration, "net10.0", "cofusfl.dll");
            if (!File.Exists(dll)) throw new FileNotFoundException($"the CLI is not built at {dll}");
            return dll;
        }
    }

    /// <summary>
    /// A tiny SFLv1 run on the real clock. Node names have the length of the in-process node name ("local"): envelope
    /// bytes include both addresses, so only equal lengths make byte counts comparable.
    /// </summary>
    private string WriteConfig(string dir, string coordinator, int rounds, string extra = "")
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "run.conf");
        File.WriteAllText(path, $$"""
            cofusfl {
              seed = 11
              run { name = "cluster", rounds = {{rounds}}, out = "{{dir}}/runs" }
              data { root = "{{DataRoot}}", train = ["bsds500/train"], crop = 64, batch-size = 2 }
              model { n = 8, m = 12 }
              training { mode = "sflv1", local-steps = 2 }
              split.features { uplink = "entropy", downlink = "entropy" }
              federation { clients = 3, clients-per-round = 3 }
              evaluation.enabled = off
              runtime.clock = "real"
              cluster {
                enabled = on
                min-nodes = 2
                join-timeout = 90s
                broker { uri = "{{broker.Uri}}", vhost = "{{broker.VirtualHost}}" }
                node.name = "{{coordinator}}"
                heartbeat-interval = 250ms
                unreachable-after = 2s
              }
              {{extra}}
            }
            """);
        return path;
    }

    private static Config Load(string path) =>
        Config.ParseFile(path).WithFallback(Config.ParseString(ReferenceConfig.Text, "reference.conf")).Resolve(new ResolveOptions { UseEnvironment = false });

    private sealed record Worker(string Name, Process Process, Task<string> Stdout, Task<string> Stderr)
    {
        public string Output => $"--- {Name} (exit {(Process.HasExited ? Process.ExitCode.ToString(CultureInfo.InvariantCulture) : "running")}) ---\n{(Stdout.IsCompleted ? Stdout.Result : "")}{(Stderr.IsCompleted ? Stderr.Result : "")}";
    }

    private Worker StartWorker(string config, string name)
    {
        var psi = new ProcessStartInfo("dotnet", [Cli, "node", "--config", config, "-D", $"cofusfl.cluster.node.name={name}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["COFUSFL_BROKER_USER"] = broker.User;
        psi.Environment["COFUSFL_BROKER_PASSWORD"] = broker.Password;
        var p = Process.Start(psi)!;
        return new Worker(name, p, p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync());
    }

    private RabbitMqTransport Connect(ClusterSettings s) =>
        RabbitMqTransport.Connect(s.Transport with { User = broker.User, Password = broker.Password, Role = "coordinator" });

    private static double Train(JsonObject round, string key) => round["train"]![key]!.GetValue<double>();

    private static long Transfers(JsonObject round, string kind) => round["bytes"]![kind]!.GetValue<long>();
    private static long Messages(JsonObject round, string kind) => round["messages"]![kind]!.GetValue<long>();

    private static readonly string[] TransferKinds =
        ["transfer1_features_up", "transfer2_features_down", "transfer3_gradient_up", "transfer4_gradient_down"];

    [Fact]
    public void Three_worker_processes_train_exactly_like_one_process()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cofusfl-cluster-sim-" + Guid.NewGuid().ToString("N")[..8]);
        var config = WriteConfig(dir, "coord", rounds: 2, "cluster.min-nodes = 3");
        var resolved = Load(config);
        var options = SimulationConfig.Bind(resolved);
        var settings = ClusterSettings.Bind(resolved);

        var local = SimulationRunner.Run(options, new RunRequest(Path.Combine(dir, "local")), new RunHooks());

        var workers = new[] { StartWorker(config, "wrk-a"), StartWorker(config, "wrk-b"), StartWorker(config, "wrk-c") };
        try
        {
            var placement = new ClusterPlacement(settings, Connect(settings), _ => { });
            var cluster = SimulationRunner.Run(options, new RunRequest(Path.Combine(dir, "cluster")), new RunHooks(), null, null, placement);

            placement.Placement.Values.Order().Should().Equal(["wrk-a", "wrk-b", "wrk-c"], "3 clients on three 1-slot workers: one client each");
            cluster.Rounds.Should().HaveCount(2);
            for (var i = 0; i < 2; i++)
            {
                var (a, b) = (local.Rounds[i], cluster.Rounds[i]);
                // Client statistics are averaged in client order: exact.
                foreach (var key in new[] { "mse", "psnr", "distortion_term" })
                    Train(b, key).Should().Be(Train(a, key), $"round {i + 1}: train.{key}");
                // The server sums its rates over steps in arrival order (wall-clock order, in process too): equal up to rounding.
                // (aux_loss is the last step's value, whichever client's step ran last: not comparable on the real clock.)
                foreach (var key in new[] { "loss", "bpp_image_est" })
                    Train(b, key).Should().BeApproximately(Train(a, key), 1e-9 * Math.Abs(Train(a, key)), $"round {i + 1}: train.{key}");
                b["clients_completed"]!.GetValue<int>().Should().Be(3);
                b["samples"]!.GetValue<long>().Should().Be(a["samples"]!.GetValue<long>());
                foreach (var kind in TransferKinds)
                {
                    // Same messages, same bytes: an envelope holds both addresses (node names of equal length) and a message id
                    // that counts per (sender, recipient) pair, the same in one process and across processes.
                    Messages(b, kind).Should().Be(Messages(a, kind), $"round {i + 1}: messages of {kind}");
                    Transfers(b, kind).Should().BeGreaterThan(0);
                    Transfers(b, kind).Should().Be(Transfers(a, kind), $"round {i + 1}: bytes of {kind}");
                }
            }
            cluster.Summary["final_model_hash"]!.GetValue<string>().Should().Be(local.Summary["final_model_hash"]!.GetValue<string>());
            foreach (var key in new[] { "client_updates_sent", "client_updates_counted", "lost_updates" })
                cluster.Summary[key]!.GetValue<long>().Should().Be(local.Summary[key]!.GetValue<long>(), key);
            cluster.Summary["client_updates_sent"]!.GetValue<long>().Should().Be(6, "reported by the workers: 3 clients × 2 rounds");

            foreach (var w in workers)
            {
                w.Process.WaitForExit(30_000).Should().BeTrue($"{w.Name} stops when the run is over\n{w.Output}");
                w.Process.ExitCode.Should().Be(0, w.Output);
                w.Stdout.Result.Should().Contain("the run is over");
            }
        }
        finally
        {
            foreach (var w in workers) if (!w.Process.HasExited) w.Process.Kill();
            foreach (var w in workers) w.Process.Dispose();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { /* the OS cleans the temp folder */ }
        }
    }

    [Fact]
    public void Kill_9_of_a_worker_mid_run_re_places_its_client_and_the_run_finishes_with_exact_update_accounting()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cofusfl-cluster-kill-" + Guid.NewGuid().ToString("N")[..8]);
        var config = WriteConfig(dir, "crd-k", rounds: 3, "federation { retry-timeout = 2s, round-deadline = 90s }");
        var resolved = Load(config);
        var options = SimulationConfig.Bind(resolved);
        var settings = ClusterSettings.Bind(resolved);
        var workers = new[] { StartWorker(config, "wk-k1"), StartWorker(config, "wk-k2") };
        try
        {
            ClusterPlacement? placement = null;
            Worker? killed = null;
            var hooks = new RunHooks
            {
                // Round 2 starts right after this returns: its global model goes to the dead node's client first.
                RoundStarted = (round, _) =>
                {
                    if (round != 2) return;
                    var node = placement!.Placement["client-0002"];
                    killed = workers.Single(w => w.Name == node);
                    killed.Process.Kill();   // SIGKILL: no leave message
                    killed.Process.WaitForExit(10_000).Should().BeTrue();
                },
            };
            placement = new ClusterPlacement(settings, Connect(settings), _ => { });
            var outcome = SimulationRunner.Run(options, new RunRequest(Path.Combine(dir, "run")), hooks, null, null, placement);

            killed.Should().NotBeNull("a worker was killed at the start of round 2");
            var survivor = workers.Single(w => w != killed);
            outcome.Rounds.Should().HaveCount(3);
            outcome.Rounds.Select(r => r["clients_completed"]!.GetValue<int>()).Should().Equal([3, 3, 3],
                "the killed node's client is re-placed on the survivor and completes round 2 there");
            placement.Placement.Values.Distinct().Should().Equal([survivor.Name]);
            var s = outcome.Summary;
            s["client_updates_sent"]!.GetValue<long>().Should().Be(9, "3 clients × 3 rounds, each reported once by its worker");
            s["client_updates_counted"]!.GetValue<long>().Should().Be(9);
            s["client_updates_late"]!.GetValue<long>().Should().Be(0);
            s["lost_updates"]!.GetValue<long>().Should().Be(0, "the kill fell between rounds: no update was in flight");
            survivor.Process.WaitForExit(30_000).Should().BeTrue(survivor.Output);
            survivor.Process.ExitCode.Should().Be(0, survivor.Output);
            survivor.Stdout.Result.Should().Contain("client-0002", "the survivor hosts the re-placed client");
        }
        finally
        {
            foreach (var w in workers) if (!w.Process.HasExited) w.Process.Kill();
            foreach (var w in workers) w.Process.Dispose();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { /* the OS cleans the temp folder */ }
        }
    }

    [Fact]
    public void A_broker_restart_mid_run_is_survived_and_the_run_finishes_like_one_process_with_exact_update_accounting()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cofusfl-cluster-restart-" + Guid.NewGuid().ToString("N")[..8]);
        // Retransmissions bridge the outage (every 2 s, up to 60 times); the broker's stop and start take seconds each.
        var config = WriteConfig(dir, "crd-r", rounds: 3, "federation { retry-timeout = 2s, max-retries = 60, round-deadline = 120s }");
        var resolved = Load(config);
        var options = SimulationConfig.Bind(resolved);
        var settings = ClusterSettings.Bind(resolved);

        var local = SimulationRunner.Run(options, new RunRequest(Path.Combine(dir, "local")), new RunHooks());

        var workers = new[] { StartWorker(config, "wk-r1"), StartWorker(config, "wk-r2") };
        Task? restart = null;
        using var stopped = new ManualResetEventSlim();
        try
        {
            var transport = Connect(settings);
            var hooks = new RunHooks
            {
                RoundStarted = (round, _) =>
                {
                    if (round == 3)
                    {
                        // However slow the stop, the outage falls inside the run: round 3 waits for it.
                        stopped.Wait(TimeSpan.FromSeconds(60));
                        return;
                    }
                    if (round != 2) return;
                    var before = transport.EnvelopesReceived;
                    restart = Task.Run(() =>
                    {
                        // Mid-round: some of round 2's traffic (client tables, features) has reached the server, the rest is in flight.
                        try
                        {
                            if (!SpinWait.SpinUntil(() => transport.EnvelopesReceived >= before + 4, TimeSpan.FromSeconds(60)))
                                throw new TimeoutException($"round 2 brought {transport.EnvelopesReceived - before} envelopes to the coordinator within 60 s, expected 4");
                            broker.Script("stop");
                        }
                        finally { stopped.Set(); }
                        broker.Script("start");
                    });
                },
            };
            var placement = new ClusterPlacement(settings, transport, _ => { });
            var outcome = SimulationRunner.Run(options, new RunRequest(Path.Combine(dir, "cluster")), hooks, null, null, placement);

            restart.Should().NotBeNull("round 2 started");
            // The run cannot finish without the broker; the start script may still be confirming readiness when it does.
            restart!.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue("the run cannot finish without the broker, so the restart is over");
            transport.Reconnects.Should().BeGreaterThanOrEqualTo(1, "the coordinator lost the broker mid-run and reconnected");
            outcome.Rounds.Should().HaveCount(3);
            outcome.Rounds.Select(r => r["clients_completed"]!.GetValue<int>()).Should().Equal([3, 3, 3],
                "work lost with the broker's queues is retransmitted: no client drops out");
            var s = outcome.Summary;
            s["client_updates_sent"]!.GetValue<long>().Should().Be(9, "3 clients × 3 rounds, each reported once by its worker");
            s["client_updates_counted"]!.GetValue<long>().Should().Be(9);
            s["client_updates_late"]!.GetValue<long>().Should().Be(0);
            s["lost_updates"]!.GetValue<long>().Should().Be(0);
            // Retransmissions repeat the same computation (the server answers a repeated transfer from its last reply, the
            // aggregator counts a client once per round), so the model is the one of a run without the outage.
            s["final_model_hash"]!.GetValue<string>().Should().Be(local.Summary["final_model_hash"]!.GetValue<string>());
            placement.Placement.Values.Distinct().Order().Should().Equal(["wk-r1", "wk-r2"], "a broker restart is no departure: no client was re-placed");
            foreach (var w in workers)
            {
                w.Process.WaitForExit(30_000).Should().BeTrue($"{w.Name} stops when the run is over\n{w.Output}");
                w.Process.ExitCode.Should().Be(0, w.Output);
                w.Stdout.Result.Should().Contain("the run is over");
            }
        }
        finally
        {
            try { restart?.Wait(TimeSpan.FromSeconds(150)); } catch (AggregateException) { /* reported by the assertions above */ }
            broker.Script("start");   // the other specs of the collection need the broker, whatever happened here
            foreach (var w in workers) if (!w.Process.HasExited) w.Process.Kill();
            foreach (var w in workers) w.Process.Dispose();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { /* the OS cleans the temp folder */ }
        }
    }

    [Fact]
    public void A_coordinator_whose_workers_do_not_join_in_time_fails_with_a_clear_error()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cofusfl-cluster-none-" + Guid.NewGuid().ToString("N")[..8]);
        var config = WriteConfig(dir, "crd-n", rounds: 1, "cluster { min-nodes = 1, join-timeout = 2s }");
        var resolved = Load(config);
        var settings = ClusterSettings.Bind(resolved);
        var placement = new ClusterPlacement(settings, Connect(settings), _ => { });
        var run = () => SimulationRunner.Run(SimulationConfig.Bind(resolved), new RunRequest(Path.Combine(dir, "run")), new RunHooks(), null, null, placement);
        run.Should().Throw<ClusterRunException>().Which.Message.Should().Contain("did not join within").And.Contain("min-nodes");
    }

    [Fact]
    public void Cluster_mode_refuses_the_virtual_clock()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cofusfl-cluster-virt-" + Guid.NewGuid().ToString("N")[..8]);
        var config = WriteConfig(dir, "crd-v", rounds: 1, "runtime.clock = \"virtual\"");
        var resolved = Load(config);
        var settings = ClusterSettings.Bind(resolved);
        using var transport = Connect(settings);
        var run = () => SimulationRunner.Run(SimulationConfig.Bind(resolved), new RunRequest(Path.Combine(dir, "run")), new RunHooks(), null, null,
            new ClusterPlacement(settings, transport, _ => { }));
        run.Should().Throw<ArgumentException>().Which.Message.Should().Contain("cofusfl.runtime.clock = virtual").And.Contain("real");
    }
}
