using System.Diagnostics;
using System.Text.Json.Nodes;
using CoFUsfl.Actors;
using CoFUsfl.Actors.Remote.RabbitMq;

namespace CoFUsfl.Bench;

/// <summary>
/// Cluster transport throughput: envelopes of 1 KiB (messages/s), 1 MiB and 16 MiB (MiB/s) from one node to another
/// through the broker, measured from the first send until the receiver holds the last byte (publisher confirms,
/// chunking and reassembly included). Uses the broker named by <c>COFUSFL_BROKER_URI</c> (credentials from
/// <c>COFUSFL_BROKER_USER</c>/<c>COFUSFL_BROKER_PASSWORD</c>), otherwise starts a private one with scripts/broker.sh.
/// </summary>
public sealed class TransportBench : IBenchmarkSuite
{
    public string Name => "transport";
    public string Description => "RabbitMQ cluster transport: msg/s at 1 KiB, MiB/s at 1 MiB and 16 MiB between two nodes via the broker";

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        using var broker = BenchBroker.Open();
        var o = broker.Options;
        using var tb = RabbitMqTransport.Connect(o);
        var sink = new CountingReceiver();
        tb.Start(new NodeId("bench-b", 2), sink);
        using var ta = RabbitMqTransport.Connect(o);
        ta.Start(new NodeId("bench-a", 1), new CountingReceiver());
        ta.Membership!.WaitForAsync(ms => ms.Any(m => m.Node.Name == "bench-b"), TimeSpan.FromSeconds(30)).Wait();

        var q = options.Quick;
        var cases = new (string Name, int Size, long Total)[]
        {
            ("1KiB", 1 << 10, q ? 4 << 20 : 48L << 20),       // 4 Ki / 48 Ki messages
            ("1MiB", 1 << 20, q ? 64L << 20 : 1L << 30),
            ("16MiB", 16 << 20, q ? 128L << 20 : 2L << 30),
        };
        var extraBase = new JsonObject { ["broker"] = o.SafeUri, ["chunk_size"] = o.ChunkSize, ["outbound_queue"] = o.OutboundQueueBytes };
        foreach (var (name, size, total) in cases)
        {
            var payload = new byte[size];
            new Random(options.Seed).NextBytes(payload);
            var count = (int)Math.Max(1, total / size);
            Transfer(ta, sink, payload, Math.Max(1, count / 10));   // warm-up
            var runs = q ? 1 : 3;
            var seconds = new double[runs];
            for (var r = 0; r < runs; r++) seconds[r] = Transfer(ta, sink, payload, count);
            var s = Measure.Median(seconds);
            var extra = (JsonObject)extraBase.DeepClone();
            extra["envelope_bytes"] = size;
            extra["envelopes"] = count;
            extra["seconds"] = s;
            yield return size < 1 << 20
                ? new BenchResult(Name, $"{name}_msgs_per_s", count / s, "msg/s", extra)
                : new BenchResult(Name, $"{name}_mib_per_s", (double)count * size / s / (1 << 20), "MiB/s", extra);
        }
        if (ta.Failures != 0 || tb.Failures != 0) throw new InvalidOperationException($"transport reported {ta.Failures + tb.Failures} failures during the benchmark");
    }

    /// <summary>Sends <paramref name="count"/> copies and waits until all arrived; returns seconds.</summary>
    private static double Transfer(RabbitMqTransport from, CountingReceiver sink, byte[] payload, int count)
    {
        var target = sink.Count + count;
        var t0 = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
            if (!from.Send("bench-b", payload)) throw new InvalidOperationException("send refused during the benchmark");
        if (!sink.WaitFor(target, TimeSpan.FromMinutes(5))) throw new TimeoutException($"only {sink.Count} of {target} envelopes arrived");
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    private sealed class CountingReceiver : IEnvelopeReceiver
    {
        private long _count;
        private readonly object _gate = new();
        public long Count => Interlocked.Read(ref _count);

        public void Receive(ReadOnlySpan<byte> envelope)
        {
            Interlocked.Increment(ref _count);
            lock (_gate) Monitor.PulseAll(_gate);
        }

        public bool WaitFor(long n, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            lock (_gate)
                while (Count < n)
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) return false;
                    Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Min(100, left.TotalMilliseconds)));
                }
            return true;
        }
    }

    /// <summary>The broker to measure against: an existing one from the environment, or a private one started here.</summary>
    private sealed class BenchBroker : IDisposable
    {
        private string? _dir, _script;
        public required RabbitMqOptions Options { get; init; }

        public static BenchBroker Open()
        {
            var uri = Environment.GetEnvironmentVariable("COFUSFL_BROKER_URI");
            if (!string.IsNullOrEmpty(uri)) return new BenchBroker { Options = new RabbitMqOptions { Uri = new Uri(uri) } };
            var script = FindScript() ?? throw new InvalidOperationException(
                "bench transport: set COFUSFL_BROKER_URI to a broker, or run from a checkout (scripts/broker.sh starts a private one)");
            var dir = Path.Combine(Path.GetTempPath(), $"cofusfl-bench-broker-{Environment.ProcessId}");
            var password = Guid.NewGuid().ToString("N");
            var psi = new ProcessStartInfo("bash", [script, "start", dir]) { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.Environment["COFUSFL_BROKER_USER"] = "bench";
            psi.Environment["COFUSFL_BROKER_PASSWORD"] = password;
            psi.Environment["COFUSFL_BROKER_VHOST"] = "bench";
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"bench transport: could not start a broker: {stderr}");
            return new BenchBroker
            {
                _dir = dir, _script = script,
                Options = new RabbitMqOptions { Uri = new Uri(stdout.Trim().Split('\n')[^1]), User = "bench", Password = password, VirtualHost = "bench" },
            };
        }

        private static string? FindScript()
        {
            foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
                for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                {
                    var s = Path.Combine(d.FullName, "scripts", "broker.sh");
                    if (File.Exists(s)) return s;
                }
            return null;
        }

        public void Dispose()
        {
            if (_dir is null) return;
            using (var p = Process.Start(new ProcessStartInfo("bash", [_script!, "stop", _dir]) { RedirectStandardOutput = true }))
                p!.WaitForExit();
            try { Directory.Delete(_dir, recursive: true); }
            catch (IOException) { /* the OS cleans the temp dir */ }
        }
    }
}
