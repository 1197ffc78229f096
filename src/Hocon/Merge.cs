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
    /// Merges definitions given newest first, the same as folding <see cref="Values"/> but in one pass over runs of
    /// plain objects, so that many <c>a.b.x = ...</c> lines cost linear rather than quadratic time.
    /// </summary>
    public static HoconValue All(IReadOnlyList<HoconValue> newestFirst)
    {
        HoconValue? acc = null;
        int i = 0;
        while (i < newestFirst.Count)
        {
            if (acc is not null && acc.IgnoresFallbacks) break;
            if (newestFirst[i] is HoconObject && acc is null or HoconObject)
            {
                var run = new List<HoconObject>();
                if (acc is HoconObject a) run.Add(a);
                while (i < newestFirst.Count && newestFirst[i] is HoconObject o && (run.Count == 0 || !run[^1].IgnoresFallbacks))
                {
                    run.Add(o);
                    i++;
                }
                acc = run.Count == 1 ? run[0] : ObjectRun(run);
                continue;
            }
            acc = acc is null ? newestFirst[i] : Values(acc, newestFirst[i]);
            i++;
        }
        return acc!;
    }

    private static HoconObject ObjectRun(List<HoconObject> newestFirst)
    {
        // Key order as repeated Objects() merges give: oldest definitions first.
        var order = new List<string>();
        var children = new Dictionary<string, List<HoconValue>>(StringComparer.Ordinal);
        for (int j = newestFirst.Count - 1; j >= 0; j--)
            foreach (var k in newestFirst[j].Keys)
                if (!children.ContainsKey(k))
                {
                    children[k] = [];
                    order.Add(k);
                }
        foreach (var o in newestFirst)
            foreach (var (k, v) in o.Fields)
                children[k].Add(v);
        return new HoconObject(newestFirst[0].Origin,
            order.Select(k => new KeyValuePair<string, HoconValue>(k, children[k].Count == 1 ? children[k][0] : All(children[k]))),
            newestFirst[^1].IgnoresFallbacks, KeyOrigins(Enumerable.Reverse(newestFirst)));
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
