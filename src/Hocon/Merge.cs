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
        return new HoconObject(high.Origin, fields, low.IgnoresFallbacks);
    }
}
