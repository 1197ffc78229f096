using System.Text.Json.Nodes;
using CoFUsfl.Torch;

namespace CoFUsfl.Bench;

/// <summary>
/// libtorch through our C ABI shim: a learned-codec-shaped encoder step (conv + GDN, forward and backward)
/// and the fixed cost of one op call (P/Invoke, handle, dispose scope).
/// <c>cofusfl bench torch [--device cpu|cuda] [--quick] [--json]</c>.
/// </summary>
public sealed class TorchBench : IBenchmarkSuite
{
    public string Name => "torch";
    public string Description => "libtorch via the native shim: conv/GDN encoder forward+backward, per-op overhead.";

    private const int Batch = 8, Channels = 64, Size = 128, Layers = 4, Kernel = 5;

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        var (device, problem) = ResolveDevice(options.Device);
        if (device is null)
        {
            yield return new BenchResult(Name, "skipped", 0, "none", new JsonObject { ["device"] = options.Device, ["message"] = problem });
            yield break;
        }
        var d = device.Value;
        var isCuda = d.Type == DeviceType.CUDA;
        var defaultThreads = torch.get_num_threads();

        var (warmup, iterations) = options.Quick ? (1, 3) : (2, 10);
        using (var encoder = new Encoder(d, (ulong)options.Seed))
        {
            var ms = Measure.MedianMs(encoder.Step, warmup, iterations);
            yield return new BenchResult(Name, "conv_fwd_bwd_ms", ms, "ms", EncoderExtra(d, defaultThreads, iterations));

            // Debian's libtorch runs intra-op work on OpenMP with one thread per *physical* core by default;
            // with hyper-threads or a shared machine more threads may or may not pay: measure it.
            var cores = Environment.ProcessorCount;
            if (!isCuda && cores != defaultThreads)
            {
                try
                {
                    torch.set_num_threads(cores);
                    var msAll = Measure.MedianMs(encoder.Step, warmup, iterations);
                    var extra = EncoderExtra(d, torch.get_num_threads(), iterations);
                    extra["default_threads"] = defaultThreads;
                    extra["speedup_vs_default"] = Math.Round(ms / msAll, 3);
                    yield return new BenchResult(Name, "conv_fwd_bwd_ms_all_cores", msAll, "ms", extra);
                }
                finally { torch.set_num_threads(defaultThreads); }
            }
        }

        const int ops = 10_000;
        var opIterations = options.Quick ? 5 : 21;
        using (var a = torch.ones([1], device: d).DetachFromDisposeScope())
        using (var b = torch.ones([1], device: d).DetachFromDisposeScope())
        {
            var opMs = Measure.MedianMs(() =>
            {
                using var scope = torch.NewDisposeScope();
                for (var i = 0; i < ops; i++) _ = a + b;
                if (isCuda) torch.cuda.synchronize();
            }, 2, opIterations);
            yield return new BenchResult(Name, "op_overhead_ns", opMs * 1e6 / ops, "ns", new JsonObject
            {
                ["device"] = d.ToString(),
                ["op"] = "add of two 1-element float32 tensors inside a dispose scope (result freed at scope end)",
                ["ops_per_sample"] = ops,
                ["samples"] = opIterations,
                ["threads"] = torch.get_num_threads(),
            });
        }
    }

    private static (Device? device, string problem) ResolveDevice(string text)
    {
        Device d;
        try { d = Device.Parse(text); }
        catch (FormatException e) { return (null, e.Message); }
        if (d.Type == DeviceType.CUDA && !torch.cuda.is_available())
            return (null, $"CUDA is not available to libtorch {torch.Version} ({torch.NativeLibraryPath}): a CPU-only build or no GPU; run with --device cpu");
        if (d.Type == DeviceType.CUDA && d.Index >= torch.cuda.device_count())
            return (null, $"{d} requested but libtorch sees {torch.cuda.device_count()} CUDA device(s)");
        return (d, "");
    }

    private static JsonObject EncoderExtra(Device d, int threads, int iterations) => new()
    {
        ["device"] = d.ToString(),
        ["threads"] = threads,
        ["iterations"] = iterations,
        ["model"] = $"{Layers}x conv k{Kernel} s2 p2 (3->{Channels}->{Channels}) + GDN x/sqrt(beta+conv1x1(x^2)) after the first {Layers - 1}",
        ["input"] = $"{Batch}x3x{Size}x{Size} float32",
        ["libtorch"] = torch.Version,
    };

    /// <summary>The analysis transform of a factorized-prior codec, built from our ops, with its parameters on a device.</summary>
    private sealed class Encoder : IDisposable
    {
        private readonly Device device;
        private readonly List<Tensor> parameters = [];
        private readonly Tensor[] weights = new Tensor[Layers], biases = new Tensor[Layers];
        private readonly Tensor[] gammas = new Tensor[Layers - 1], betas = new Tensor[Layers - 1];
        private readonly Tensor input;

        public Encoder(Device device, ulong seed)
        {
            this.device = device;
            using var gen = new Generator(seed);
            using var scope = torch.NewDisposeScope();
            for (var i = 0; i < Layers; i++)
            {
                var cin = i == 0 ? 3 : Channels;
                var bound = 1.0 / Math.Sqrt(cin * Kernel * Kernel);
                weights[i] = Param(torch.uniform([Channels, cin, Kernel, Kernel], -bound, bound, gen));
                biases[i] = Param(torch.uniform([Channels], -bound, bound, gen));
            }
            for (var i = 0; i < Layers - 1; i++)
            {
                // CompressAI's GDN init: beta = 1, gamma = 0.1·I (plus a little off-diagonal mass here).
                gammas[i] = Param(torch.uniform([Channels, Channels, 1, 1], 0, 1e-3, gen) + 0.1 / Channels);
                betas[i] = Param(torch.ones([Channels]));
            }
            input = torch.rand([Batch, 3, Size, Size], gen).to(device).DetachFromDisposeScope();
        }

        private Tensor Param(Tensor cpu)
        {
            var p = cpu.to(device).DetachFromDisposeScope().requires_grad_();
            parameters.Add(p);
            return p;
        }

        /// <summary>One training step's worth of autograd work: forward, scalar loss, backward.</summary>
        public void Step()
        {
            using (var scope = torch.NewDisposeScope())
            {
                var h = input;
                for (var i = 0; i < Layers; i++)
                {
                    h = F.conv2d(h, weights[i], biases[i], stride: 2, padding: 2);
                    if (i < Layers - 1) h = h * F.conv2d(h.square(), gammas[i], betas[i]).rsqrt();
                }
                h.square().mean().backward();
            }
            foreach (var p in parameters) p.grad = null;
            if (device.Type == DeviceType.CUDA) torch.cuda.synchronize();
        }

        public void Dispose()
        {
            foreach (var p in parameters) p.Dispose();
            input.Dispose();
        }
    }
}
