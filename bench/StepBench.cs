using System.Diagnostics;
using System.Text.Json.Nodes;
using CoFUsfl.Hocon;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Bench;

/// <summary>
/// <c>cofusfl bench step</c>: the cost of one CoF U-SFL local step (quickstart-sized codec), broken down by the
/// parts of the protocol, and the bytes of each transfer, for float32 and entropy-coded features. It drives the
/// step core the actors run (<see cref="ClientHalf"/>, <see cref="ServerHalf"/>), with the reference loss settings.
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
        // The reference configuration's loss and training settings, with this benchmark's codec and batch.
        var reference = SimulationConfig.Bind(Config.ParseString(ReferenceConfig.Text, "reference.conf").Resolve(new ResolveOptions { UseEnvironment = false }));
        var settings = StepSettings.From(reference) with
        {
            FeaturesUplink = codec, FeaturesDownlink = codec, GradientsUplink = "float32", GradientsDownlink = "float32", BatchSize = batch, Crop = crop,
        };
        using var g = new Generator((ulong)options.Seed);
        ParameterSet global;
        using (var init = new ClientModel(plan, settings.UplinkDensity, settings.GainInit, g)) global = ParameterSet.FromModule(init.named_parameters());
        using var client = new ClientHalf(plan, settings, global, null, reference.Training.ClientOptimizer, 1e-4, device, (ulong)options.Seed, (ulong)options.Seed + 1);
        var model = new ServerModel(plan, settings.DownlinkDensity, settings.GainInit, g);
        model.to(device);
        using var noise = new Generator((ulong)options.Seed + 2, device);
        model.Codec.NoiseGenerator = noise;
        if (model.Feature2?.entropy_bottleneck is { } eb) eb.NoiseGenerator = noise;
        var down = FeatureCodec.Create(codec, model.Feature2);
        if (down is AdaptiveFeatures af) af.Noise = noise;
        FrozenFeatureTables? t2 = null;
        if (down is EntropyFeatures e2) t2 = e2.Tables = model.Feature2!.Freeze();
        var t1 = client.Tables;
        // The server half owns (and disposes) the model and its optimizers, like a body copy of SFLv1.
        using var server = new ServerHalf(plan, settings, model, new Adam(model.main_parameters(), 1e-4), new Adam(model.aux_parameters(), settings.AuxLr),
            down, new Float32Gradient(), new Generator((ulong)options.Seed + 3, device));
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
            HeadOutput head = null!;
            BodyOutput body = null!;
            TailOutput tail = null!;
            BodyBackwardOutput back = null!;
            Time("client_head_encode_ms", () => head = client.Head(x));
            Time("server_body_forward_ms", () => body = server.Body(head.Features, _ => t1, settings.Pixels, device, "bench [1]"));
            Time("client_tail_backward_ms", () => tail = client.Tail(body.Features, _ => t2, "bench [2]"));
            Time("server_backward_step_ms", () => back = server.BodyBackward(body.Step, tail.Gradient, "bench [3]"));
            Time("client_head_backward_step_ms", () => client.HeadBackward(back.Gradient, "bench [4]"));
            body.Step.Dispose();
            if (i == 0)
            {
                bytes["transfer1_bytes"] = new SplitFeatures { Features = head.Features }.CalculateSize();
                bytes["transfer2_bytes"] = new SplitFeatures { Features = body.Features }.CalculateSize();
                bytes["transfer3_bytes"] = new SplitGradient { Gradient = tail.Gradient }.CalculateSize();
                bytes["transfer4_bytes"] = new SplitGradient { Gradient = back.Gradient }.CalculateSize();
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
