using System.Runtime.InteropServices;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;
using Google.Protobuf;

namespace CoFUsfl.Simulation.Strategies;

/// <summary>Named float32 parameters held outside libtorch (the aggregator's global model, a client's personal parameters).</summary>
public sealed class ParameterSet
{
    private readonly SortedDictionary<string, (long[] Shape, float[] Values)> entries = new(StringComparer.Ordinal);

    public IEnumerable<string> Names => entries.Keys;
    public int Count => entries.Count;
    public bool Contains(string name) => entries.ContainsKey(name);
    public (long[] Shape, float[] Values) this[string name] => entries[name];

    public void Set(string name, long[] shape, float[] values) => entries[name] = (shape, values);

    public static ParameterSet FromModule(IEnumerable<(string name, Tensor parameter)> parameters, Func<string, bool>? include = null)
    {
        var s = new ParameterSet();
        using var scope = DisposeScope.Open();
        foreach (var (n, p) in parameters)
            if (include is null || include(n))
                s.Set(n, p.shape, p.detach().cpu().contiguous().data<float>());
        return s;
    }

    public static ParameterSet FromMessages(IEnumerable<NamedTensor> tensors, string what)
    {
        var s = new ParameterSet();
        foreach (var t in tensors)
        {
            var n = Protocol.TensorWire.ElementCount(t.Shape, $"{what}: parameter '{t.Name}'");
            if (t.Data.Length != n * 4)
                throw new InvalidDataException($"{what}: parameter '{t.Name}' has {t.Data.Length} bytes for shape [{string.Join(", ", t.Shape)}]");
            s.Set(t.Name, t.Shape.ToArray(), MemoryMarshal.Cast<byte, float>(t.Data.Span).ToArray());
        }
        return s;
    }

    public IEnumerable<NamedTensor> ToMessages(Func<string, bool>? include = null)
    {
        foreach (var (name, (shape, values)) in entries)
        {
            if (include is not null && !include(name)) continue;
            var m = new NamedTensor { Name = name, Data = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
            m.Shape.AddRange(shape);
            yield return m;
        }
    }

    /// <summary>Copies matching entries into a module's parameters (by the given names); a shape mismatch names the parameter.</summary>
    public void CopyInto(IEnumerable<(string name, Tensor parameter)> parameters, Func<string, bool>? include = null)
    {
        using var ng = torch.no_grad();
        using var scope = DisposeScope.Open();
        foreach (var (n, p) in parameters)
        {
            if (include is not null && !include(n)) continue;
            if (!entries.TryGetValue(n, out var e)) continue;
            if (!e.Shape.SequenceEqual(p.shape))
                throw new StateDictException($"parameter '{n}': received shape [{string.Join(", ", e.Shape)}], model has {p.ShapeString}");
            using var t = torch.from_array(e.Values, e.Shape);
            using var moved = t.to(p.device);
            p.copy_(moved);
        }
    }

    /// <summary>
    /// FedAvg: the sample-weighted mean of several sets, accumulated in double in the given (sorted) order, so
    /// the result never depends on arrival order. Every set must hold the same names and shapes.
    /// </summary>
    public static ParameterSet FedAvg(IReadOnlyList<(string Client, ParameterSet Set, long Samples)> updates)
    {
        if (updates.Count == 0) throw new ArgumentException("FedAvg of no updates");
        var ordered = updates.OrderBy(u => u.Client, StringComparer.Ordinal).ToList();
        double total = ordered.Sum(u => (double)Math.Max(1, u.Samples));
        var result = new ParameterSet();
        foreach (var name in ordered[0].Set.Names)
        {
            var (shape, first) = ordered[0].Set[name];
            var acc = new double[first.Length];
            foreach (var (client, set, samples) in ordered)
            {
                if (!set.Contains(name)) throw new InvalidDataException($"FedAvg: update of {client} lacks '{name}'");
                var v = set[name].Values;
                if (v.Length != acc.Length) throw new InvalidDataException($"FedAvg: '{name}' of {client} has {v.Length} values, expected {acc.Length}");
                var w = Math.Max(1, samples) / total;
                for (var i = 0; i < v.Length; i++) acc[i] += w * v[i];
            }
            var outv = new float[acc.Length];
            for (var i = 0; i < acc.Length; i++) outv[i] = (float)acc[i];
            result.Set(name, shape, outv);
        }
        return result;
    }

    /// <summary>SHA-256 of names, shapes and values: equal sets have equal hashes (the determinism tests use it).</summary>
    public string Hash()
    {
        using var h = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var (name, (shape, values)) in entries)
        {
            h.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            h.AppendData(MemoryMarshal.AsBytes(shape.AsSpan()));
            h.AppendData(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    public long ByteSize => entries.Values.Sum(e => (long)e.Values.Length * 4);

    /// <summary>The first parameter holding a NaN or an infinity, or null when every value is finite.</summary>
    public string? FirstNonFinite()
    {
        foreach (var (name, (_, values)) in entries)
            foreach (var v in values)
                if (!float.IsFinite(v)) return name;
        return null;
    }
}

/// <summary>Glob patterns of personal parameter names (<c>*</c> any run of characters, <c>?</c> one).</summary>
public sealed class NamePatterns(IReadOnlyList<string> patterns)
{
    public bool Matches(string name) => patterns.Any(p => CoFUsfl.Actors.ActorPattern.Glob(p, name));
}
