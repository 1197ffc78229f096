namespace CoFUsfl.Torch;

/// <summary>
/// Frees every tensor created on this thread while the scope is open, when it is disposed —
/// deterministic memory for long training runs, instead of waiting for the GC. Scopes nest;
/// a result that must outlive the step is moved out with <see cref="Tensor.MoveToOuterDisposeScope"/>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;
    private readonly DisposeScope? parent;
    private readonly List<Tensor> tensors = new(64);
    private bool disposed;

    private DisposeScope(DisposeScope? parent) => this.parent = parent;

    /// <summary>Opens a scope on this thread.</summary>
    public static DisposeScope Open() => current = new DisposeScope(current);

    /// <summary>The innermost open scope of this thread, if any.</summary>
    public static DisposeScope? Current => current;

    /// <summary>Tensors this scope will free.</summary>
    public int Count => tensors.Count(t => t.Owner == this);

    internal static void Register(Tensor t)
    {
        var s = current;
        if (s is null) return;
        t.Owner = s;
        s.tensors.Add(t);
    }

    internal static void MoveToOuter(Tensor t)
    {
        var outer = t.Owner?.parent;
        t.Owner = outer;
        outer?.tensors.Add(t);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var t in tensors)
            if (t.Owner == this) t.Dispose();
        tensors.Clear();
        // Scopes close in LIFO order on one thread; tolerate an out-of-order close by popping to our parent.
        if (current == this) current = parent;
    }
}

/// <summary>Disables gradient recording on this thread while open (libtorch's GradMode is thread-local).</summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly bool previous;
    internal NoGradScope(bool previous) => this.previous = previous;
    public void Dispose() => Native.NativeMethods.cf_set_grad_enabled(previous ? 1 : 0);
}
