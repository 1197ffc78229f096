using CoFUsfl.Models.Codecs;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Simulation.Split;

#pragma warning disable CS8981, IDE1006

/// <summary>
/// Where the codec is cut: the client runs g_a[0:Head] (the head) and g_s[Tail:] (the tail); the split server runs
/// everything between. Parameter names are the full codec's (<c>g_a.0.weight</c>), plus <c>feature1.*</c> and
/// <c>feature2.*</c> for the feature entropy models of split 1 (client side) and split 2 (server side).
/// </summary>
public sealed record SplitPlan(string ModelName, long N, long M, int Head, int Tail)
{
    public SplitPlan Validate()
    {
        if (CodecZoo.AllNames.Contains(ModelName) && !CodecZoo.Names.Contains(ModelName))
            throw new ArgumentException($"cofusfl.model.name = \"{ModelName}\": a codec for cofusfl codec train (a distillation teacher); split learning cuts the 7-layer transforms of {string.Join(", ", CodecZoo.Names)}");
        if (!CodecZoo.Names.Contains(ModelName)) throw new ArgumentException($"cofusfl.model.name: unknown model '{ModelName}' (known: {string.Join(", ", CodecZoo.Names)})");
        if (N <= 0 || M <= 0) throw new ArgumentException($"cofusfl.model: N and M must be positive (got N={N}, M={M})");
        if (Head is < 1 or > CodecLayers.TransformLayers)
            throw new ArgumentException($"cofusfl.split.head = {Head}: the client must run at least one and at most {CodecLayers.TransformLayers} layers of g_a, so pixels never leave it");
        if (Tail is < 0 or >= CodecLayers.TransformLayers)
            throw new ArgumentException($"cofusfl.split.tail = {Tail}: the tail g_s[tail:] must hold at least the last layer (0 ≤ tail ≤ {CodecLayers.TransformLayers - 1}), so reconstructions stay on the client");
        return this;
    }

    public long Split1Channels => CodecLayers.AnalysisChannels(Head, N, M);
    public long Split2Channels => CodecLayers.SynthesisChannels(Tail, N, M);
    public bool IsHyperprior => ModelName != "bmshj2018-factorized";

    /// <summary>True for parameters the client trains (head, tail, split-1 feature model).</summary>
    public bool IsClientParameter(string name)
    {
        if (name.StartsWith("feature1.", StringComparison.Ordinal)) return true;
        if (TryLayer(name, "g_a.", out var i)) return i < Head;
        if (TryLayer(name, "g_s.", out var j)) return j >= Tail;
        return false;
    }

    private static bool TryLayer(string name, string prefix, out int index)
    {
        index = -1;
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return false;
        var rest = name.AsSpan(prefix.Length);
        var dot = rest.IndexOf('.');
        return dot > 0 && int.TryParse(rest[..dot], out index);
    }
}

/// <summary>The client's part: head, tail and (for CoF) the split-1 feature entropy model.</summary>
public sealed class ClientModel : Module
{
    public readonly Sequential g_a, g_s;
    public readonly FeatureEntropyModel? feature1;

    public ClientModel(SplitPlan plan, FeatureDensity? uplink, double gainInit, Generator? g)
    {
        var a = CodecLayers.AnalysisLayers(plan.N, plan.M, g);
        var s = CodecLayers.SynthesisLayers(plan.N, plan.M, g);
        g_a = RegisterModule("g_a", new Sequential(0, a.Take(plan.Head)));
        g_s = RegisterModule("g_s", new Sequential(plan.Tail, s.Skip(plan.Tail)));
        foreach (var unused in a.Skip(plan.Head).Concat(s.Take(plan.Tail))) unused.Dispose();
        if (uplink is { } d) feature1 = RegisterModule("feature1", new FeatureEntropyModel(plan.Split1Channels, gainInit, g, d));
    }
}

/// <summary>The split server's part: the body of the codec (g_a[Head:], the entropy stage, g_s[:Tail]) and the split-2 feature model.</summary>
public sealed class ServerModel : IDisposable
{
    public SplitPlan Plan { get; }
    public CompressionModel Codec { get; }
    public FeatureEntropyModel? Feature2 { get; }

    public ServerModel(SplitPlan plan, FeatureDensity? downlink, double gainInit, Generator? g)
    {
        Plan = plan;
        Codec = CodecZoo.Create(plan.ModelName, plan.N, plan.M, g);
        if (downlink is { } d) Feature2 = new FeatureEntropyModel(plan.Split2Channels, gainInit, g, d);
    }

    /// <summary>f1 → (f2, likelihoods of y and z).</summary>
    public (Tensor f2, IReadOnlyDictionary<string, Tensor> likelihoods) body(Tensor f1)
    {
        var y = Codec.g_a.forward_range(f1, Plan.Head, CodecLayers.TransformLayers);
        var latent = Codec.latent_forward(y);
        return (Codec.g_s.forward_range(latent.YHat, 0, Plan.Tail), latent.Likelihoods);
    }

    /// <summary>The body's parameters by global name (the head/tail layers of <see cref="Codec"/> are the clients').</summary>
    public IEnumerable<(string name, Tensor parameter)> named_parameters()
    {
        foreach (var (n, p) in Codec.named_parameters())
            if (!Plan.IsClientParameter(n)) yield return (n, p);
        if (Feature2 is not null)
            foreach (var (n, p) in Feature2.named_parameters("feature2.")) yield return (n, p);
    }

    /// <summary>The parameters of the rate–distortion loss (all but the entropy bottlenecks' quantiles), those named by <paramref name="include"/> if given.</summary>
    public IEnumerable<Tensor> main_parameters(Func<string, bool>? include = null) =>
        named_parameters().Where(p => !p.name.EndsWith("quantiles", StringComparison.Ordinal) && (include is null || include(p.name))).Select(p => p.parameter);
    /// <summary>The quantiles of the entropy bottlenecks (the auxiliary loss's), those named by <paramref name="include"/> if given.</summary>
    public IEnumerable<Tensor> aux_parameters(Func<string, bool>? include = null) =>
        named_parameters().Where(p => p.name.EndsWith("quantiles", StringComparison.Ordinal) && (include is null || include(p.name))).Select(p => p.parameter);

    public Tensor aux_loss()
    {
        var loss = Codec.aux_loss();
        return Feature2?.entropy_bottleneck is { } eb ? loss + eb.loss() : loss;
    }

    public ServerModel to(Device device)
    {
        Codec.to(device);
        Feature2?.to(device);
        return this;
    }

    public void train(bool on)
    {
        Codec.train(on);
        Feature2?.train(on);
    }

    public void Dispose()
    {
        Codec.Dispose();
        Feature2?.Dispose();
    }
}
