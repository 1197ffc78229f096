using CoFUsfl.Hocon;
using Google.Protobuf;
using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Simulation.Tests;

/// <summary>
/// The step core (<see cref="ClientHalf"/>, <see cref="ServerHalf"/>) driven with no actor system: one method per
/// transfer, checked against the same U-shaped step computed in one autograd graph.
/// </summary>
public class StepCoreSpecs
{
    private static readonly SplitPlan Plan = new("bmshj2018-hyperprior", 8, 12, 2, 5);

    private static StepSettings Settings(string features, string gradients, double beta) =>
        StepSettings.From(SimulationConfig.Bind(Config.ParseString(ReferenceConfig.Text, "reference.conf").Resolve(new ResolveOptions { UseEnvironment = false }))) with
        {
            FeaturesUplink = features, FeaturesDownlink = features, GradientsUplink = gradients, GradientsDownlink = gradients,
            Beta = beta, BatchSize = 2, Crop = 64, NoiseQuantization = false, ClipGradNorm = 0,
        };

    private sealed class Pair : IDisposable
    {
        public required ClientHalf Client;
        public required ServerHalf Server;
        public required ParameterSet ClientInit, ServerInit;
        public void Dispose() { Client.Dispose(); Server.Dispose(); }
    }

    private static Pair Halves(StepSettings s, ulong seed)
    {
        using var g = new Generator(seed);
        ParameterSet clientInit;
        using (var init = new ClientModel(Plan, s.UplinkDensity, s.GainInit, g)) clientInit = ParameterSet.FromModule(init.named_parameters());
        var client = new ClientHalf(Plan, s, clientInit, null, new OptimizerOptions(), 1e-3, Device.CPU, seed + 1, seed + 2);
        var model = new ServerModel(Plan, s.DownlinkDensity, s.GainInit, g);
        var noise = new Generator(seed + 3);
        model.Codec.TrainingQuantization = TrainingQuantization.Ste;
        model.Codec.NoiseGenerator = noise;
        if (model.Feature2?.entropy_bottleneck is { } eb) { eb.TrainingQuantization = TrainingQuantization.Ste; eb.NoiseGenerator = noise; }
        var down = FeatureCodec.Create(s.FeaturesDownlink, model.Feature2);
        if (down is AdaptiveFeatures af) { af.Noise = noise; af.NoiseQuantization = false; }
        if (down is EntropyFeatures ef) ef.Tables = model.Feature2!.Freeze();
        var server = new ServerHalf(Plan, s, model, new Adam(model.main_parameters(), 1e-3), new Adam(model.aux_parameters(), s.AuxLr), down,
            GradientCodec.Create(s.GradientsDownlink, 0.05, new Random((int)seed), s.GradientStep), noise);
        return new Pair { Client = client, Server = server, ClientInit = clientInit, ServerInit = ParameterSet.FromModule(model.named_parameters()) };
    }

    private static float[] Values(EncodedTensor e) => GradientCodec.Decode(e, "spec").contiguous().data<float>();

    [Fact]
    public void A_float32_step_through_the_halves_is_the_step_of_one_autograd_graph()
    {
        var s = Settings("float32", "float32", beta: 0);
        using var pair = Halves(s, 11);
        using var scope = DisposeScope.Open();
        using var g = new Generator(5);
        var x = torch.rand([2, 3, 64, 64], g);

        var head = pair.Client.Head(x.clone());
        var body = pair.Server.Body(head.Features, _ => null, s.Pixels, Device.CPU, "[1]");
        var tail = pair.Client.Tail(body.Features, _ => null, "[2]");
        var back = pair.Server.BodyBackward(body.Step, tail.Gradient, "[3]");
        pair.Client.HeadBackward(back.Gradient, "[4]");
        body.Step.Dispose();

        // The same step in one process and one graph: head -> body -> tail, L = lambda*255^2*MSE + R_img/P.
        using var refClient = new ClientModel(Plan, null, s.GainInit, null);
        using var refServer = new ServerModel(Plan, null, s.GainInit, null);
        pair.ClientInit.CopyInto(refClient.named_parameters());
        pair.ServerInit.CopyInto(refServer.named_parameters());
        refServer.Codec.TrainingQuantization = TrainingQuantization.Ste;
        var f1 = refClient.g_a.forward(x);
        f1.retain_grad();
        var (f2, likelihoods) = refServer.body(f1);
        f2.retain_grad();
        var mse = F.mse_loss(refClient.g_s.forward(f2), x);
        var rate = likelihoods.Values.Select(l => l.log2().sum().neg()).Aggregate((a, b) => a + b) / s.Pixels;
        (Models.Losses.RateDistortion.DistortionTerm(mse, s.Lambda) + rate).backward();

        tail.Mse.Should().BeApproximately(mse.item(), 1e-9);
        body.BppImage.Should().BeApproximately(rate.item(), 1e-6);
        var expected3 = f2.grad!.contiguous().data<float>();
        var expected4 = f1.grad!.contiguous().data<float>();
        Values(tail.Gradient).Should().Equal(expected3, (a, b) => Math.Abs(a - b) <= 1e-6f + 1e-4f * Math.Abs(b), "transfer [3] is dL/df2");
        Values(back.Gradient).Should().Equal(expected4, (a, b) => Math.Abs(a - b) <= 1e-6f + 1e-4f * Math.Abs(b), "transfer [4] is dL/df1");
        expected4.Should().Contain(v => v != 0, "the step must reach the head");
    }

    [Theory]
    [InlineData("adaptive", "entropy")]
    [InlineData("entropy", "int8")]
    public void The_same_seeds_give_the_same_bytes_on_every_transfer(string features, string gradients)
    {
        var s = Settings(features, gradients, beta: 1);
        byte[][] Run()
        {
            using var pair = Halves(s, 21);
            using var g = new Generator(7);
            var wire = new List<byte[]>();
            for (var step = 0; step < 3; step++)
            {
                using var scope = DisposeScope.Open();
                var head = pair.Client.Head(torch.rand([2, 3, 64, 64], g));
                var body = pair.Server.Body(head.Features, v => pair.Client.Tables, s.Pixels, Device.CPU, "[1]");
                var tables2 = (pair.Server.Downlink as EntropyFeatures)?.Tables;
                var tail = pair.Client.Tail(body.Features, _ => tables2, "[2]");
                var back = pair.Server.BodyBackward(body.Step, tail.Gradient, "[3]");
                var end = pair.Client.HeadBackward(back.Gradient, "[4]");
                body.Step.Dispose();
                end.BppFeatures1.Should().BeGreaterThan(0);
                wire.AddRange([head.Features.ToByteArray(), body.Features.ToByteArray(), tail.Gradient.ToByteArray(), back.Gradient.ToByteArray()]);
            }
            return [.. wire];
        }
        var first = Run();
        var second = Run();
        second.Should().HaveCount(first.Length);
        for (var i = 0; i < first.Length; i++) second[i].Should().Equal(first[i], $"transfer [{i % 4 + 1}] of step {i / 4}");
        // The step trained: step 2's split-1 features differ from step 0's beyond the batch (the head moved).
        first[8].Should().NotEqual(first[0]);
    }

    [Fact]
    public void A_malformed_gradient_is_refused_by_name_before_the_body_changes()
    {
        var s = Settings("float32", "float32", beta: 0);
        using var pair = Halves(s, 31);
        using var scope = DisposeScope.Open();
        using var g = new Generator(3);
        var head = pair.Client.Head(torch.rand([2, 3, 64, 64], g));
        var body = pair.Server.Body(head.Features, _ => null, s.Pixels, Device.CPU, "[1]");
        var before = ParameterSet.FromModule(pair.Server.Model.named_parameters());
        var truncated = new EncodedTensor { Codec = TensorCodec.Float32, Data = Google.Protobuf.ByteString.CopyFrom(new byte[10]) };
        truncated.Shape.AddRange(body.Step.F2.shape);
        var act = () => pair.Server.BodyBackward(body.Step, truncated, "split-2 gradient of client-0007, round 3, step 1");
        act.Should().Throw<InvalidDataException>().WithMessage("*client-0007, round 3, step 1*");
        var after = ParameterSet.FromModule(pair.Server.Model.named_parameters());
        foreach (var name in before.Names) after[name].Values.Should().Equal(before[name].Values, name);
        body.Step.Dispose();
    }
}
