using CoFUsfl.Torch.Native;

namespace CoFUsfl.Torch.Optim;

#pragma warning disable CS8981, IDE1006

/// <summary>Base of the optimizers: a parameter list, zero_grad, and a savable state.</summary>
public abstract class Optimizer : IDisposable
{
    protected readonly Tensor[] Params;
    public double LearningRate { get; set; }
    /// <summary>Steps taken.</summary>
    public long StepCount { get; protected set; }

    protected Optimizer(IEnumerable<Tensor> parameters, double lr)
    {
        Params = parameters.ToArray();
        LearningRate = lr;
    }

    public abstract void step();

    public void zero_grad()
    {
        foreach (var p in Params) p.grad = null;
    }

    /// <summary>Optimizer state by name (for checkpoints): <c>state.{i}.{buffer}</c> and <c>step</c>.</summary>
    public abstract Dictionary<string, Tensor> state_dict();
    public abstract void load_state_dict(IReadOnlyDictionary<string, Tensor> state);

    public virtual void Dispose() => GC.SuppressFinalize(this);

    protected static void Load(IReadOnlyDictionary<string, Tensor> state, string key, Tensor target)
    {
        if (!state.TryGetValue(key, out var v)) throw new KeyNotFoundException($"optimizer state has no '{key}'");
        if (!v.shape.SequenceEqual(target.shape)) throw new ArgumentException($"optimizer state '{key}' has shape {v.ShapeString}, expected {target.ShapeString}");
        using var moved = v.to(target.dtype, target.device);
        target.copy_(moved);
    }
}

/// <summary>torch.optim.Adam (L2 weight decay added to the gradient, as PyTorch's Adam).</summary>
public sealed class Adam : Optimizer
{
    private readonly Tensor[] expAvg, expAvgSq;
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }

    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base(parameters, lr)
    {
        if (lr < 0 || beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1 || eps < 0 || weightDecay < 0)
            throw new ArgumentException($"Adam: invalid hyper-parameters (lr={lr}, betas=({beta1}, {beta2}), eps={eps}, weight_decay={weightDecay})");
        (Beta1, Beta2, Eps, WeightDecay) = (beta1, beta2, eps, weightDecay);
        expAvg = Params.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
        expAvgSq = Params.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    public override void step()
    {
        StepCount++;
        for (var i = 0; i < Params.Length; i++)
            TorchException.Check(Native.NativeMethods.cf_adam_step(Params[i].Handle, expAvg[i].Handle, expAvgSq[i].Handle,
                LearningRate, Beta1, Beta2, Eps, WeightDecay, StepCount, 0));
    }

    public override Dictionary<string, Tensor> state_dict()
    {
        var d = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["step"] = torch.scalar(StepCount, ScalarType.Int64).DetachFromDisposeScope() };
        for (var i = 0; i < Params.Length; i++)
        {
            d[$"state.{i}.exp_avg"] = expAvg[i];
            d[$"state.{i}.exp_avg_sq"] = expAvgSq[i];
        }
        return d;
    }

    public override void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
    {
        StepCount = state.TryGetValue("step", out var s) ? (long)s.item() : throw new KeyNotFoundException("optimizer state has no 'step'");
        for (var i = 0; i < Params.Length; i++)
        {
            Load(state, $"state.{i}.exp_avg", expAvg[i]);
            Load(state, $"state.{i}.exp_avg_sq", expAvgSq[i]);
        }
    }

    public override void Dispose()
    {
        foreach (var t in expAvg) t.Dispose();
        foreach (var t in expAvgSq) t.Dispose();
        base.Dispose();
    }
}

/// <summary>torch.optim.SGD with momentum, dampening, Nesterov and weight decay.</summary>
public sealed class SGD : Optimizer
{
    private readonly Tensor[]? momentumBuffers;
    public double Momentum { get; }
    public double Dampening { get; }
    public double WeightDecay { get; }
    public bool Nesterov { get; }

    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, lr)
    {
        if (lr < 0 || momentum < 0 || weightDecay < 0 || (nesterov && (momentum <= 0 || dampening != 0)))
            throw new ArgumentException($"SGD: invalid hyper-parameters (lr={lr}, momentum={momentum}, dampening={dampening}, nesterov={nesterov})");
        (Momentum, Dampening, WeightDecay, Nesterov) = (momentum, dampening, weightDecay, nesterov);
        if (momentum != 0) momentumBuffers = Params.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    public override void step()
    {
        StepCount++;
        for (var i = 0; i < Params.Length; i++)
            TorchException.Check(Native.NativeMethods.cf_sgd_step(Params[i].Handle, (momentumBuffers?[i].Handle).OrNull(), LearningRate, Momentum,
                Dampening, WeightDecay, Nesterov ? 1 : 0, StepCount == 1 ? 1 : 0));
    }

    public override Dictionary<string, Tensor> state_dict()
    {
        var d = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["step"] = torch.scalar(StepCount, ScalarType.Int64).DetachFromDisposeScope() };
        if (momentumBuffers is not null)
            for (var i = 0; i < Params.Length; i++) d[$"state.{i}.momentum_buffer"] = momentumBuffers[i];
        return d;
    }

    public override void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
    {
        StepCount = state.TryGetValue("step", out var s) ? (long)s.item() : throw new KeyNotFoundException("optimizer state has no 'step'");
        if (momentumBuffers is not null)
            for (var i = 0; i < Params.Length; i++) Load(state, $"state.{i}.momentum_buffer", momentumBuffers[i]);
    }

    public override void Dispose()
    {
        if (momentumBuffers is not null) foreach (var t in momentumBuffers) t.Dispose();
        base.Dispose();
    }
}

/// <summary>torch.nn.utils.clip_grad_norm_: scales gradients in place so their global L2 norm is at most maxNorm.</summary>
public static class GradClip
{
    public static double clip_grad_norm_(IEnumerable<Tensor> parameters, double maxNorm)
    {
        using var scope = DisposeScope.Open();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Cast<Tensor>().ToList();
        if (grads.Count == 0) return 0;
        double sq = 0;
        foreach (var g in grads) { var n = g.norm().item(); sq += n * n; }
        var total = Math.Sqrt(sq);
        var coef = maxNorm / (total + 1e-6);
        if (coef < 1)
            foreach (var g in grads) g.mul_(coef);
        return total;
    }
}
