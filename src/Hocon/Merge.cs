namespace CoFUsfl.Hocon;

/// <summary>Lightbend's <c>withFallback</c> rules, shared by parsing (duplicate keys), includes and the API.</summary>
internal static class Merge
{
    public static HoconValue Values(HoconValue high, HoconValue low)
    {
        if (high.IgnoresFallbacks) return high;
        if (high is HoconObject ho)
        {
            return low switch
            {
                HoconObject lo => Objects(ho, lo),
                Unresolved => new DelayedMerge(ho.Origin, [ho, .. Stack(low)]),
                // An object over a non-object hides it and everything below it (this is how null resets a key).
                _ when ho.IsResolved => ho.WithIgnoresFallbacks(true),
                _ => new DelayedMerge(ho.Origin, [ho, low]),
            };
        }
        // Substitutions, concatenations, delayed merges and unresolved lists: only resolution can tell what they merge with.
        return new DelayedMerge(high.Origin, [.. Stack(high), .. Stack(low)]);
    }

    private static IEnumerable<HoconValue> Stack(HoconValue v) => v is DelayedMerge d ? d.Stack : [v];

    private static HoconObject Objects(HoconObject high, HoconObject low)
    {
        var fields = new List<KeyValuePair<string, HoconValue>>(low.Count + high.Count);
        foreach (var (k, lv) in low.Fields)
            fields.Add(new(k, high.TryGetValue(k, out var hv) ? Values(hv, lv) : lv));
        foreach (var (k, hv) in high.Fields)
            if (!low.ContainsKey(k)) fields.Add(new(k, hv));
        return new HoconObject(high.Origin, fields, low.IgnoresFallbacks, KeyOrigins([low, high]));
    }

    /// <summary>
    /// Merges definitions given oldest first, exactly as folding <see cref="Values"/> (each newer one over the result so
    /// far), but merges a run of consecutive plain objects in one pass, so that many <c>a.b.x = ...</c> lines cost
    /// linear rather than quadratic time.
    /// </summary>
    public static HoconValue All(IReadOnlyList<HoconValue> oldestFirst)
    {
        HoconValue? acc = null;
        var run = new List<HoconObject>(); // when non-empty, it stands for acc: objects still to be merged
        foreach (var v in oldestFirst)
        {
            if (v is HoconObject o)
            {
                if (run.Count > 0)
                {
                    if (o.IgnoresFallbacks) run.Clear();
                    run.Add(o);
                }
                else if (acc is null) run.Add(o);
                else
                {
                    acc = Values(o, acc);
                    if (acc is HoconObject merged)
                    {
                        run.Add(merged);
                        acc = null;
                    }
                }
                continue;
            }
            var current = run.Count > 0 ? Flush(run) : acc;
            run.Clear();
            acc = current is null ? v : Values(v, current);
        }
        return run.Count > 0 ? Flush(run) : acc!;
    }

    private static HoconObject Flush(List<HoconObject> oldestFirst)
    {
        if (oldestFirst.Count == 1) return oldestFirst[0];
        var order = new List<string>();
        var children = new Dictionary<string, List<HoconValue>>(StringComparer.Ordinal);
        foreach (var o in oldestFirst)
            foreach (var (k, v) in o.Fields)
            {
                if (!children.TryGetValue(k, out var list))
                {
                    children[k] = list = [];
                    order.Add(k);
                }
                list.Add(v);
            }
        return new HoconObject(oldestFirst[^1].Origin,
            order.Select(k => new KeyValuePair<string, HoconValue>(k, children[k].Count == 1 ? children[k][0] : All(children[k]))),
            oldestFirst[0].IgnoresFallbacks, KeyOrigins(oldestFirst));
    }

    /// <summary>Key positions of merged objects: the first (oldest) definition of each key.</summary>
    private static Dictionary<string, HoconOrigin>? KeyOrigins(IEnumerable<HoconObject> oldestFirst)
    {
        Dictionary<string, HoconOrigin>? result = null;
        foreach (var o in oldestFirst)
        {
            if (o.KeyOrigins is null) continue;
            result ??= new Dictionary<string, HoconOrigin>(StringComparer.Ordinal);
            foreach (var (k, origin) in o.KeyOrigins) result.TryAdd(k, origin);
        }
        return result;
    }
}
