namespace CoFUsfl.Hocon;

/// <summary>Value concatenation (Lightbend's ConfigConcatenation.join): strings join, lists append, objects merge.</summary>
internal static class Concat
{
    /// <summary>Joins what can be joined now; returns a single value, or a <see cref="Concatenation"/> when substitutions remain, or null for nothing.</summary>
    public static HoconValue? ConcatenateOrNull(IReadOnlyList<HoconValue> pieces)
    {
        var consolidated = Consolidate(pieces);
        return consolidated.Count switch
        {
            0 => null,
            1 => consolidated[0],
            _ => new Concatenation(consolidated[0].Origin, consolidated),
        };
    }

    public static HoconValue Concatenate(IReadOnlyList<HoconValue> pieces) =>
        ConcatenateOrNull(pieces) ?? throw new InvalidOperationException("empty concatenation");

    public static List<HoconValue> Consolidate(IReadOnlyList<HoconValue> pieces)
    {
        var flat = new List<HoconValue>(pieces.Count);
        foreach (var p in pieces)
        {
            if (p is Concatenation c) flat.AddRange(c.Pieces);
            else flat.Add(p);
        }
        if (flat.Count < 2) return flat;
        var builder = new List<HoconValue>(flat.Count) { flat[0] };
        for (int i = 1; i < flat.Count; i++) Join(builder, flat[i]);
        return builder;
    }

    private static bool IsIgnoredWhitespace(HoconValue v) => v is HoconString { Quoted: false };

    private static void Join(List<HoconValue> builder, HoconValue right)
    {
        var left = builder[^1];
        // An object with numeric keys next to a list is treated as a list (foo.0, foo.1 from properties).
        if (left is HoconObject lo && right is HoconList) left = Lists.FromNumericKeys(lo) ?? left;
        else if (left is HoconList && right is HoconObject ro) right = Lists.FromNumericKeys(ro) ?? right;

        HoconValue? joined = null;
        if (left is HoconObject && right is HoconObject)
            joined = Merge.Values(right, left);
        else if (left is HoconList ll && right is HoconList rl)
            joined = new HoconList(ll.Origin, ll.Items.Concat(rl.Items));
        else if (left is HoconList or HoconObject && IsIgnoredWhitespace(right))
            joined = left;
        else if (left is Unresolved || right is Unresolved)
            joined = null;
        else
        {
            var s1 = left.ConcatText;
            var s2 = right.ConcatText;
            if (s1 is null || s2 is null)
                throw new HoconException(left.Origin,
                    $"Cannot concatenate object or list with a non-object-or-list, {Describe(left)} and {Describe(right)} are not compatible");
            joined = new HoconString(left.Origin, s1 + s2, quoted: true);
        }
        if (joined is null) builder.Add(right);
        else builder[^1] = joined;
    }

    private static string Describe(HoconValue v) => v switch
    {
        HoconObject => $"object at {v.Origin}",
        HoconList => $"list at {v.Origin}",
        HoconString s => $"string \"{s.Value}\" at {v.Origin}",
        _ => $"{(v.IsResolved ? v.Type.ToString().ToLowerInvariant() : "value")} at {v.Origin}",
    };
}

/// <summary>Lightbend's DefaultTransformer for lists: an object whose keys are non-negative integers reads as a list.</summary>
internal static class Lists
{
    public static HoconList? FromNumericKeys(HoconObject o)
    {
        var entries = new List<(int Index, HoconValue Value)>();
        foreach (var (k, v) in o.Fields)
            if (int.TryParse(k, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var i) && i >= 0)
                entries.Add((i, v));
        if (entries.Count == 0) return null;
        return new HoconList(o.Origin, entries.OrderBy(e => e.Index).Select(e => e.Value));
    }
}
