namespace CoFUsfl.Torch.NN;

#pragma warning disable CS8981, IDE1006

/// <summary>
/// PyTorch's nn.Module: registered parameters, buffers and child modules with dotted names
/// (<c>g_a.0.weight</c>), train/eval mode, state dicts. Parameters live outside any dispose scope.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> parameters = [];
    private readonly List<KeyValuePair<string, Tensor>> buffers = [];
    private readonly List<KeyValuePair<string, Module>> children = [];

    /// <summary>True in training mode (noise instead of rounding, etc.).</summary>
    public bool training { get; private set; } = true;

    protected Tensor RegisterParameter(string name, Tensor value)
    {
        CheckName(name);
        value.DetachFromDisposeScope();
        if (!value.requires_grad) value.requires_grad = true;
        parameters.Add(new(name, value));
        return value;
    }

    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        CheckName(name);
        value.DetachFromDisposeScope();
        buffers.Add(new(name, value));
        return value;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        children.Add(new(name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"invalid member name '{name}'");
        if (parameters.Any(p => p.Key == name) || buffers.Any(p => p.Key == name) || children.Any(p => p.Key == name))
            throw new ArgumentException($"'{name}' is already registered in {GetType().Name}");
    }

    public IEnumerable<(string name, Module module)> named_children() => children.Select(c => (c.Key, c.Value));

    public IEnumerable<(string name, Tensor parameter)> named_parameters(string prefix = "")
    {
        foreach (var p in parameters) yield return (prefix + p.Key, p.Value);
        foreach (var c in children)
            foreach (var x in c.Value.named_parameters(prefix + c.Key + ".")) yield return x;
    }

    public IEnumerable<(string name, Tensor buffer)> named_buffers(string prefix = "")
    {
        foreach (var b in buffers) yield return (prefix + b.Key, b.Value);
        foreach (var c in children)
            foreach (var x in c.Value.named_buffers(prefix + c.Key + ".")) yield return x;
    }

    public IEnumerable<(string name, Module module)> named_modules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach (var c in children)
            foreach (var x in c.Value.named_modules(prefix + c.Key + ".")) yield return x;
    }

    public IEnumerable<Tensor> parameters_() => named_parameters().Select(p => p.parameter);

    /// <summary>Number of scalar parameters.</summary>
    public long ParameterCount => named_parameters().Sum(p => p.parameter.numel());

    /// <summary>Parameters and buffers by dotted name (the tensors themselves, not copies).</summary>
    public Dictionary<string, Tensor> state_dict()
    {
        var d = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (n, p) in named_parameters()) d[n] = p;
        foreach (var (n, b) in named_buffers()) d[n] = b;
        return d;
    }

    /// <summary>
    /// Copies values into this module's parameters and buffers. With <paramref name="strict"/>, missing or
    /// unexpected keys are an error; a shape mismatch always is, naming the key.
    /// </summary>
    public void load_state_dict(IReadOnlyDictionary<string, Tensor> source, bool strict = true)
    {
        var own = state_dict();
        if (strict)
        {
            var missing = own.Keys.Where(k => !source.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
            var unexpected = source.Keys.Where(k => !own.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new StateDictException(
                    $"state dict does not match {GetType().Name}:" +
                    (missing.Count > 0 ? $" missing keys: {string.Join(", ", missing)};" : "") +
                    (unexpected.Count > 0 ? $" unexpected keys: {string.Join(", ", unexpected)};" : ""));
        }
        using var ng = torch.no_grad();
        foreach (var (key, target) in own)
        {
            if (!source.TryGetValue(key, out var value)) continue;
            var a = target.shape;
            var b = value.shape;
            if (!a.SequenceEqual(b))
                throw new StateDictException($"size mismatch for {key}: checkpoint has [{string.Join(", ", b)}], model has [{string.Join(", ", a)}]");
            using var v = value.to(target.dtype, target.device);
            target.copy_(v);
        }
    }

    /// <summary>Moves every parameter and buffer to <paramref name="device"/> in place (tensor identities are kept).</summary>
    public Module to(Device device)
    {
        foreach (var (_, t) in state_dict())
        {
            if (t.device == device) continue;
            using var moved = t.to(device);
            t.set_data(moved);
        }
        return this;
    }

    /// <summary>Converts every floating-point parameter and buffer to <paramref name="type"/> in place (e.g. float64 for gradient checks).</summary>
    public Module to(ScalarType type)
    {
        foreach (var (_, t) in state_dict())
        {
            if (t.dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16) || t.dtype == type) continue;
            using var converted = t.to(type);
            t.set_data(converted);
        }
        return this;
    }

    public Module train(bool on = true)
    {
        foreach (var (_, m) in named_modules()) m.training = on;
        return this;
    }

    public Module eval() => train(false);

    /// <summary>Clears every parameter's gradient.</summary>
    public void zero_grad()
    {
        foreach (var (_, p) in named_parameters()) p.grad = null;
    }

    public virtual void Dispose()
    {
        foreach (var p in parameters) p.Value.Dispose();
        foreach (var b in buffers) b.Value.Dispose();
        foreach (var c in children) c.Value.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A module with one input and one output.</summary>
public abstract class Module<TIn, TOut> : Module
{
    public abstract TOut forward(TIn input);
    public TOut call(TIn input) => forward(input);
}

/// <summary>A state dict that does not fit a module (missing/unexpected keys, shape mismatch).</summary>
public sealed class StateDictException(string message) : Exception(message);
