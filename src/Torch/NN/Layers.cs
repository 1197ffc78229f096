namespace CoFUsfl.Torch.NN;

#pragma warning disable CS8981, IDE1006

/// <summary>Parameter initialization as PyTorch's defaults (kaiming-uniform with a=√5 ⇒ U(±1/√fan_in)).</summary>
public static class init
{
    public static Tensor uniform(long[] shape, double bound, Generator? gen) => torch.uniform(shape, -bound, bound, gen);
}

/// <summary>nn.Conv2d (square kernel, same stride/padding on both axes).</summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    public readonly Tensor weight;
    public readonly Tensor? bias;
    public long InChannels { get; }
    public long OutChannels { get; }
    public long KernelSize { get; }
    public long Stride { get; }
    public long Padding { get; }
    public long Groups { get; }

    public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long groups = 1, bool bias = true, Generator? generator = null)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0) throw new ArgumentException($"Conv2d: channels ({inChannels}, {outChannels}) not divisible by groups {groups}");
        (InChannels, OutChannels, KernelSize, Stride, Padding, Groups) = (inChannels, outChannels, kernelSize, stride, padding, groups);
        var fanIn = inChannels / groups * kernelSize * kernelSize;
        var bound = 1.0 / Math.Sqrt(fanIn);
        weight = RegisterParameter("weight", init.uniform([outChannels, inChannels / groups, kernelSize, kernelSize], bound, generator));
        if (bias) this.bias = RegisterParameter("bias", init.uniform([outChannels], bound, generator));
    }

    public override Tensor forward(Tensor x) => F.conv2d(x, weight, bias, Stride, Padding, 1, Groups);
}

/// <summary>nn.ConvTranspose2d (square kernel).</summary>
public sealed class ConvTranspose2d : Module<Tensor, Tensor>
{
    public readonly Tensor weight;
    public readonly Tensor? bias;
    public long Stride { get; }
    public long Padding { get; }
    public long OutputPadding { get; }
    public long Groups { get; }

    public ConvTranspose2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, bool bias = true, Generator? generator = null)
    {
        (Stride, Padding, OutputPadding, Groups) = (stride, padding, outputPadding, groups);
        // PyTorch computes fan_in from weight.size(1) * k * k = out/groups * k * k for transposed convs.
        var fanIn = outChannels / groups * kernelSize * kernelSize;
        var bound = 1.0 / Math.Sqrt(fanIn);
        weight = RegisterParameter("weight", init.uniform([inChannels, outChannels / groups, kernelSize, kernelSize], bound, generator));
        if (bias) this.bias = RegisterParameter("bias", init.uniform([outChannels], bound, generator));
    }

    public override Tensor forward(Tensor x) => F.conv_transpose2d(x, weight, bias, Stride, Padding, OutputPadding, Groups);
}

/// <summary>nn.Linear.</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    public readonly Tensor weight;
    public readonly Tensor? bias;

    public Linear(long inFeatures, long outFeatures, bool bias = true, Generator? generator = null)
    {
        var bound = 1.0 / Math.Sqrt(inFeatures);
        weight = RegisterParameter("weight", init.uniform([outFeatures, inFeatures], bound, generator));
        if (bias) this.bias = RegisterParameter("bias", init.uniform([outFeatures], bound, generator));
    }

    public override Tensor forward(Tensor x) => F.linear(x, weight, bias);
}

/// <summary>An elementwise function as a module (ReLU, LeakyReLU, …), so it can sit in a <see cref="Sequential"/>.</summary>
public sealed class Lambda(string name, Func<Tensor, Tensor> fn) : Module<Tensor, Tensor>
{
    public string Name { get; } = name;
    public override Tensor forward(Tensor x) => fn(x);
    public override string ToString() => Name;
}

/// <summary>nn.Sequential: children named "0", "1", …, applied in order. Slicing keeps the original names.</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    private readonly List<Module<Tensor, Tensor>> layers = [];

    /// <summary>Index of the first layer's name: a slice of a larger Sequential keeps its original names (<c>g_s.4.weight</c>).</summary>
    public int FirstIndex { get; }

    public Sequential(params Module<Tensor, Tensor>[] modules) : this(0, modules) { }

    public Sequential(int firstIndex, IEnumerable<Module<Tensor, Tensor>> modules)
    {
        FirstIndex = firstIndex;
        foreach (var m in modules) Append(m);
    }

    public Sequential Append(Module<Tensor, Tensor> module)
    {
        RegisterModule((FirstIndex + layers.Count).ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        layers.Add(module);
        return this;
    }

    public int Count => layers.Count;
    public Module<Tensor, Tensor> this[int i] => layers[i];

    public override Tensor forward(Tensor x)
    {
        // Intermediates belong to the caller's dispose scope; the input is not ours to free.
        var h = x;
        foreach (var l in layers) h = l.forward(h);
        return h;
    }

    /// <summary>Applies layers [from, to): the head/body/tail cuts of split learning.</summary>
    public Tensor forward_range(Tensor x, int from, int to)
    {
        if (from < 0 || to > layers.Count || from > to) throw new ArgumentOutOfRangeException(nameof(from), $"range [{from}, {to}) outside 0..{layers.Count}");
        var h = x;
        for (var i = from; i < to; i++) h = layers[i].forward(h);
        return h;
    }
}
