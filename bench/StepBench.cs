using System.Diagnostics;
using System.Text.Json.Nodes;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Bench;

/// <summary>
/// <c>cofusfl bench step</c>: the cost of one CoF U-SFL local step (quickstart-sized codec), broken down by the
/// parts of the protocol, and the bytes of each transfer, for float32 and entropy-coded features.
/// </summary>
public sealed class StepBench : IBenchmarkSuite
{
    public string Name => "step";
    public string Description => "One split-learning step of a tiny codec: time per protocol part and bytes per transfer.";

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        var device = Device.Parse(options.Device);
        if (device.Type == DeviceType.CUDA && !torch.cuda.is_available())
        {
            yield return new BenchResult(Name, "skipped", 0, "", new JsonObject { ["reason"] = "CUDA is not available in this libtorch build or on this machine" });
            yield break;
        }
        foreach (var codec in new[] { "float32", "entropy", "adaptive" })
            foreach (var r in RunCodec(options, device, codec)) yield return r;
    }

    private IEnumerable<BenchResult> RunCodec(BenchOptions options, Device device, string codec)
    {
        const int batch = 4, crop = 64;
        var plan = new SplitPlan("bmshj2018-hyperprior", 16, 24, 2, 5);
        using var g = new Generator((ulong)options.Seed);
        using var client = new ClientModel(plan, FeatureCodec.DensityOf(codec), 8, g);
        using var server = new ServerModel(plan, FeatureCodec.DensityOf(codec), 8, g);
        client.to(device);
        server.Codec.to(device);
        server.Feature2?.to(device);
        server.Codec.NoiseGenerator = null;
        using var copt = new Adam(client.parameters_(), 1e-4);
        using var sopt = new Adam(server.main_parameters(), 1e-4);
        var up = FeatureCodec.Create(codec, client.feature1);
        var down = FeatureCodec.Create(codec, server.Feature2);
        FrozenFeatureTables? t1 = null, t2 = null;
        if (up is EntropyFeatures e1) t1 = e1.Tables = client.feature1!.Freeze();
        if (down is EntropyFeatures e2) t2 = e2.Tables = server.Feature2!.Freeze();
        var grads = new Float32Gradient();
        var parts = new Dictionary<string, List<double>>();
        var bytes = new Dictionary<string, long>();
        void Time(string part, Action a)
        {
            var t0 = Stopwatch.GetTimestamp();
            a();
            if (device.Type == DeviceType.CUDA) torch.cuda.synchronize();
            (parts.TryGetValue(part, out var l) ? l : parts[part] = []).Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        var iterations = options.Quick ? 3 : 15;
        for (var i = 0; i < iterations + 2; i++)
        {
            using var scope = DisposeScope.Open();
            var x = torch.rand([batch, 3, crop, crop], g).to(device);
            EncodedFeatures f1 = null!, f2 = null!;
            Tensor f1s = null!, f2c = null!, xHat, serverLoss = null!;
            Time("client_head_encode_ms", () => f1 = up.Encode(client.g_a.forward(x), true));
            var m1 = new SplitFeatures { Features = f1.Wire };
            Time("server_body_forward_ms", () =>
            {
                f1s = FeatureCodec.Decode(f1.Wire, _ => t1, "bench").to(device).requires_grad_();
                var (f2t, lik) = server.body(f1s);
                f2 = down.Encode(f2t, true);
                serverLoss = lik.Values.Select(l => l.log2().sum().neg()).Aggregate((a, b) => a + b) / (batch * crop * crop);
            });
            var m2 = new SplitFeatures { Features = f2.Wire };
            EncodedTensor g2 = null!, g1 = null!;
            Time("client_tail_backward_ms", () =>
            {
                f2c = FeatureCodec.Decode(f2.Wire, _ => t2, "bench").to(device).requires_grad_();
                xHat = client.g_s.forward(f2c);
                (F.mse_loss(xHat, x) * (0.013 * 255 * 255)).backward();
                g2 = grads.Encode(f2c.grad!);
            });
            Time("server_backward_step_ms", () =>
            {
                autograd.backward([f2.DataPath, serverLoss], [GradientCodec.Decode(g2, "bench").to(device), null]);
                sopt.step();
                sopt.zero_grad();
                g1 = grads.Encode(f1s.grad!);
            });
            Time("client_head_backward_step_ms", () =>
            {
                autograd.backward([f1.DataPath], [GradientCodec.Decode(g1, "bench").to(device)]);
                copt.step();
                copt.zero_grad();
            });
            if (i == 0)
            {
                bytes["transfer1_bytes"] = m1.CalculateSize();
                bytes["transfer2_bytes"] = m2.CalculateSize();
                bytes["transfer3_bytes"] = new SplitGradient { Gradient = g2 }.CalculateSize();
                bytes["transfer4_bytes"] = new SplitGradient { Gradient = g1 }.CalculateSize();
            }
        }
        var extra = new JsonObject { ["features"] = codec, ["model"] = "bmshj2018-hyperprior N=16 M=24", ["batch"] = batch, ["crop"] = crop, ["device"] = device.ToString(), ["threads"] = torch.get_num_threads() };
        double total = 0;
        foreach (var (part, samples) in parts)
        {
            var median = CoFUsfl.Bench.Measure.Median(samples.Skip(2).ToList());
            total += median;
            yield return new BenchResult(Name, $"{codec}.{part}", median, "ms", (JsonObject)extra.DeepClone());
        }
        yield return new BenchResult(Name, $"{codec}.step_total_ms", total, "ms", (JsonObject)extra.DeepClone());
        foreach (var (k, v) in bytes)
            yield return new BenchResult(Name, $"{codec}.{k}", v, "bytes (payload message, without envelope)", (JsonObject)extra.DeepClone());
    }
}
