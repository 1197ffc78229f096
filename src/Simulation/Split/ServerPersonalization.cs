using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Simulation.Split;

/// <summary>
/// FedLC on the split server (<c>federation.server-personal</c>): the matching body parameters (the latent's entropy
/// model, say) are kept per client. A client's copy starts from the shared values the first time it is served, is
/// swapped into the body that serves it (<see cref="Bind"/>) with its own Adam moments, and swapped out afterwards
/// (<see cref="Release"/>), which puts the shared values back. Shared optimizers never see these parameters, FedAvg
/// never averages them and they never reach the aggregator.
/// </summary>
public sealed class ServerPersonalization(NamePatterns patterns, ParameterSet shared)
{
    /// <summary>A client's parameters and optimizer state while no body holds them.</summary>
    private sealed class Slot(ParameterSet values)
    {
        public ParameterSet Values = values;
        public ParameterSet? Optimizer;
    }

    /// <summary>A client's parameters swapped into a body, with the optimizers that train them there.</summary>
    public sealed class Binding(string client, ServerModel model, Adam main, Adam? aux) : IDisposable
    {
        public string Client { get; } = client;
        public ServerModel Model { get; } = model;
        public Adam Main { get; } = main;
        public Adam? Aux { get; } = aux;

        public void Dispose()
        {
            Main.Dispose();
            Aux?.Dispose();
        }
    }

    private readonly SortedDictionary<string, Slot> slots = new(StringComparer.Ordinal);

    public bool Matches(string name) => patterns.Matches(name);

    /// <summary>Clients with a copy, in client order.</summary>
    public IEnumerable<string> Clients => slots.Keys;

    /// <summary>Swaps <paramref name="client"/>'s copy into <paramref name="model"/> and opens its optimizers (learning rate <paramref name="lr"/>).</summary>
    public Binding Bind(string client, ServerModel model, double lr, OptimizerOptions so, double auxLr)
    {
        if (!slots.TryGetValue(client, out var slot)) slots[client] = slot = new Slot(shared);
        slot.Values.CopyInto(model.named_parameters(), Matches);
        var main = new Adam(model.main_parameters(Matches), lr, so.Beta1, so.Beta2, weightDecay: so.WeightDecay);
        var auxParams = model.aux_parameters(Matches).ToList();
        var aux = auxParams.Count > 0 ? new Adam(auxParams, auxLr) : null;
        if (slot.Optimizer is { } saved)
        {
            OptimizerStates.Load(main, saved, "main.");
            if (aux is not null) OptimizerStates.Load(aux, saved, "aux.");
        }
        return new Binding(client, model, main, aux);
    }

    /// <summary>Keeps what <paramref name="b"/> trained; <paramref name="restoreShared"/>: put the shared values back into its body (one that lives on).</summary>
    public void Release(Binding b, bool restoreShared)
    {
        var slot = slots[b.Client];
        slot.Values = ParameterSet.FromModule(b.Model.named_parameters(), Matches);
        var state = OptimizerStates.Save(b.Main, "main.", new ParameterSet());
        if (b.Aux is not null) OptimizerStates.Save(b.Aux, "aux.", state);
        slot.Optimizer = state;
        b.Dispose();
        if (restoreShared) shared.CopyInto(b.Model.named_parameters(), Matches);
    }

    /// <summary>A client's parameters (as last released).</summary>
    public ParameterSet? ValuesOf(string client) => slots.TryGetValue(client, out var s) ? s.Values : null;

    /// <summary>
    /// Every client's copy and optimizer state as one set (checkpoints, the coordinator's evaluation):
    /// <c>{client}/param/{name}</c> and <c>{client}/optim/{main|aux}.{state}</c>.
    /// </summary>
    public ParameterSet State()
    {
        var set = new ParameterSet();
        foreach (var (client, slot) in slots)
        {
            foreach (var n in slot.Values.Names) set.Set($"{client}/{ParamPart}/{n}", slot.Values[n].Shape, slot.Values[n].Values);
            if (slot.Optimizer is { } o)
                foreach (var n in o.Names) set.Set($"{client}/{OptimPart}/{n}", o[n].Shape, o[n].Values);
        }
        return set;
    }

    /// <summary>Restores what <see cref="State"/> wrote (a restarted or resumed server).</summary>
    public void Load(ParameterSet state)
    {
        slots.Clear();
        foreach (var (client, part) in Split(state))
        {
            var slot = new Slot(part.Values) { Optimizer = part.Optimizer.Count > 0 ? part.Optimizer : null };
            slots[client] = slot;
        }
    }

    private const string ParamPart = "param", OptimPart = "optim";

    /// <summary>A <see cref="State"/> set by client: its parameters (by model name) and its optimizer state.</summary>
    public static SortedDictionary<string, (ParameterSet Values, ParameterSet Optimizer)> Split(ParameterSet state)
    {
        var result = new SortedDictionary<string, (ParameterSet, ParameterSet)>(StringComparer.Ordinal);
        foreach (var name in state.Names)
        {
            var parts = name.Split('/', 3);
            if (parts.Length != 3 || parts[1] is not (ParamPart or OptimPart))
                throw new InvalidDataException($"per-client server state: unexpected entry '{name}' (client/param/name or client/optim/name)");
            if (!result.TryGetValue(parts[0], out var e)) result[parts[0]] = e = (new ParameterSet(), new ParameterSet());
            (parts[1] == ParamPart ? e.Item1 : e.Item2).Set(parts[2], state[name].Shape, state[name].Values);
        }
        return result;
    }
}
