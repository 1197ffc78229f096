using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Simulation.Strategies;

/// <summary>An optimizer's state_dict as named float32 tensors (checkpoints, messages); step counts as float32, exact below 2^24.</summary>
public static class OptimizerStates
{
    /// <summary>Adds <paramref name="optimizer"/>'s state to <paramref name="into"/>, each name prefixed by <paramref name="prefix"/>.</summary>
    public static ParameterSet Save(Optimizer optimizer, string prefix, ParameterSet into)
    {
        using var scope = DisposeScope.Open();
        foreach (var (name, t) in optimizer.state_dict())
        {
            into.Set(prefix + name, t.shape, t.@float().cpu().data<float>());
            if (name == "step") t.Dispose();   // a fresh scalar (detached from scopes); the moments are the optimizer's own
        }
        return into;
    }

    /// <summary>Loads the entries of <paramref name="saved"/> named <paramref name="prefix"/>… into <paramref name="optimizer"/>.</summary>
    public static void Load(Optimizer optimizer, ParameterSet saved, string prefix)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in saved.Names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
            {
                var (shape, values) = saved[name];
                state[name[prefix.Length..]] = torch.from_array(values, shape).DetachFromDisposeScope();
            }
            if (state.TryGetValue("step", out var step))
            {
                state["step"] = step.to(ScalarType.Int64).DetachFromDisposeScope();
                step.Dispose();
            }
            optimizer.load_state_dict(state);
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }
}
