namespace CoFUsfl.Hocon;

/// <summary>A key of a user's config that the reference config does not define.</summary>
/// <param name="Path">Full path of the unknown key.</param>
/// <param name="Origin">Where the user defined it.</param>
/// <param name="Suggestion">The nearest known path, if one is close enough.</param>
public sealed record UnknownKey(string Path, HoconOrigin Origin, string? Suggestion)
{
    /// <summary><c>unknown key 'a.b' (did you mean 'a.c'?)</c></summary>
    public string Message => Suggestion is null ? $"unknown key '{Path}'" : $"unknown key '{Path}' (did you mean '{Suggestion}'?)";
}

/// <summary>
/// Checks a user's config against the reference config. Rule for open sections: an object that is EMPTY in the
/// reference (<c>extra-metrics {}</c>) accepts any keys below it; every other key must exist in the reference.
/// A leaf of the reference accepts any user value at that path (type errors are the binder's job).
/// </summary>
public static class KeyValidator
{
    /// <summary>Unknown keys of <paramref name="user"/>, in definition order, each with the nearest known key.</summary>
    public static IReadOnlyList<UnknownKey> FindUnknownKeys(HoconObject user, HoconObject reference)
    {
        var known = new List<string>();
        CollectPaths(reference, [], known);
        var result = new List<UnknownKey>();
        Walk(user, reference, [], known, result);
        return result;
    }

    private static void CollectPaths(HoconObject o, string[] prefix, List<string> into)
    {
        foreach (var (k, v) in o.Fields)
        {
            string[] p = [.. prefix, k];
            into.Add(HoconPath.Render(p));
            if (v is HoconObject child) CollectPaths(child, p, into);
        }
    }

    private static void Walk(HoconObject user, HoconObject reference, string[] prefix, List<string> known, List<UnknownKey> result)
    {
        foreach (var (k, v) in user.Fields)
        {
            string[] p = [.. prefix, k];
            if (!reference.TryGetValue(k, out var rv))
            {
                var path = HoconPath.Render(p);
                result.Add(new UnknownKey(path, user.KeyOrigin(k), Nearest(path, known)));
            }
            else if (rv is HoconObject ro && ro.Count > 0 && v is HoconObject uo)
                Walk(uo, ro, p, known, result);
        }
    }

    /// <summary>The known path with the smallest edit distance, if within a third of the length (at least 3 edits).</summary>
    public static string? Nearest(string path, IEnumerable<string> known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var d = Levenshtein(path, candidate);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = candidate;
            }
        }
        return best is not null && bestDistance <= Math.Max(3, path.Length / 3) ? best : null;
    }

    private static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
