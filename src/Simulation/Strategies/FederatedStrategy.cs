using CoFUsfl.Simulation.Configuration;

namespace CoFUsfl.Simulation.Strategies;

/// <summary>One client's (or one SFLv1 body copy's) contribution to a round: its parameters and the samples it trained on.</summary>
public readonly record struct WeightedUpdate(string Client, ParameterSet Set, long Samples);

/// <summary>
/// How a round's results become the next global model (Flower's <c>Strategy</c>, reduced to what U-SFL needs):
/// <see cref="AggregateFit"/> for the clients' head/tail updates at the aggregator, <see cref="AggregateBodies"/> for
/// SFLv1's per-client body copies at the split server. Implementations are pure functions of their inputs and of
/// their own state; adding one is a new class and a case in <see cref="FederatedStrategy.Create"/>.
/// </summary>
public interface IFederatedStrategy
{
    /// <summary>The configuration name (<c>federation.strategy.name</c>).</summary>
    string Name { get; }

    /// <summary>
    /// The next values of the parameters the updates hold (personal parameters never are in them), from the current
    /// global ones and the round's kept updates (at least one).
    /// </summary>
    ParameterSet AggregateFit(uint round, ParameterSet global, IReadOnlyList<WeightedUpdate> updates);

    /// <summary>SFLv1: the next global body from the round's body copies (at least one).</summary>
    ParameterSet AggregateBodies(uint round, IReadOnlyList<WeightedUpdate> bodies);
}

public static class FederatedStrategy
{
    public static readonly IReadOnlyList<string> Names = ["fedavg", "fedadam"];

    public static IFederatedStrategy Create(StrategyOptions o) => o.Name switch
    {
        "fedavg" => new FedAvgStrategy(),
        "fedadam" => new FedAdamStrategy(o.FedAdam),
        _ => throw new ArgumentException($"cofusfl.federation.strategy.name = \"{o.Name}\": one of {string.Join(", ", Names)}"),
    };

    /// <summary>Checks <c>federation.strategy</c>, naming the key.</summary>
    public static void Validate(StrategyOptions o)
    {
        if (!Names.Contains(o.Name)) throw new ArgumentException($"cofusfl.federation.strategy.name = \"{o.Name}\": one of {string.Join(", ", Names)}");
        var a = o.FedAdam;
        if (!(a.Lr > 0 && double.IsFinite(a.Lr))) throw new ArgumentException($"cofusfl.federation.strategy.fedadam.lr = {a.Lr}: a finite number > 0");
        if (!(a.Beta1 >= 0 && a.Beta1 < 1)) throw new ArgumentException($"cofusfl.federation.strategy.fedadam.beta1 = {a.Beta1}: 0 <= beta1 < 1");
        if (!(a.Beta2 >= 0 && a.Beta2 < 1)) throw new ArgumentException($"cofusfl.federation.strategy.fedadam.beta2 = {a.Beta2}: 0 <= beta2 < 1");
        if (!(a.Tau > 0 && double.IsFinite(a.Tau))) throw new ArgumentException($"cofusfl.federation.strategy.fedadam.tau = {a.Tau}: a finite number > 0");
    }

    internal static List<(string, ParameterSet, long)> Tuples(IReadOnlyList<WeightedUpdate> updates) =>
        updates.Select(u => (u.Client, u.Set, u.Samples)).ToList();
}

/// <summary>FedAvg (McMahan et al., 2017): the sample-weighted mean of the updates, for clients and SFLv1 bodies alike.</summary>
public sealed class FedAvgStrategy : IFederatedStrategy
{
    public string Name => "fedavg";

    public ParameterSet AggregateFit(uint round, ParameterSet global, IReadOnlyList<WeightedUpdate> updates) =>
        ParameterSet.FedAvg(FederatedStrategy.Tuples(updates));

    public ParameterSet AggregateBodies(uint round, IReadOnlyList<WeightedUpdate> bodies) => ParameterSet.FedAvg(FederatedStrategy.Tuples(bodies));
}

/// <summary>
/// FedAdam (Reddi et al., "Adaptive Federated Optimization", ICLR 2021, Algorithm 2): the FedAvg of the updates minus
/// the global model is a pseudo-gradient Δ; the server keeps Adam moments m ← β1·m + (1 − β1)·Δ,
/// v ← β2·v + (1 − β2)·Δ² (no bias correction, as in the paper) and moves x ← x + η·m / (√v + τ).
/// SFLv1 bodies are averaged (FedAvg): the moments are the aggregator's, for the clients' parameters.
/// </summary>
public sealed class FedAdamStrategy(FedAdamOptions o) : IFederatedStrategy
{
    private readonly Dictionary<string, (double[] M, double[] V)> moments = new(StringComparer.Ordinal);

    public string Name => "fedadam";

    public ParameterSet AggregateFit(uint round, ParameterSet global, IReadOnlyList<WeightedUpdate> updates)
    {
        var avg = ParameterSet.FedAvg(FederatedStrategy.Tuples(updates));
        var next = new ParameterSet();
        foreach (var name in avg.Names)
        {
            var (shape, a) = avg[name];
            var x = global[name].Values;
            if (!moments.TryGetValue(name, out var mv)) moments[name] = mv = (new double[a.Length], new double[a.Length]);
            var outv = new float[a.Length];
            for (var i = 0; i < a.Length; i++)
            {
                var d = (double)a[i] - x[i];
                mv.M[i] = o.Beta1 * mv.M[i] + (1 - o.Beta1) * d;
                mv.V[i] = o.Beta2 * mv.V[i] + (1 - o.Beta2) * d * d;
                outv[i] = (float)(x[i] + o.Lr * mv.M[i] / (Math.Sqrt(mv.V[i]) + o.Tau));
            }
            next.Set(name, shape, outv);
        }
        return next;
    }

    public ParameterSet AggregateBodies(uint round, IReadOnlyList<WeightedUpdate> bodies) => ParameterSet.FedAvg(FederatedStrategy.Tuples(bodies));
}
