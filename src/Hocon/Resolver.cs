namespace CoFUsfl.Hocon;

/// <summary>Options for <see cref="Config.Resolve(ResolveOptions?)"/>.</summary>
public sealed record ResolveOptions
{
    /// <summary>Lightbend's default: undefined substitutions fall back to environment variables.</summary>
    public static ResolveOptions Default { get; } = new();

    /// <summary>When true (default), an undefined <c>${X}</c> falls back to the environment variable X.</summary>
    public bool UseEnvironment { get; init; } = true;

    /// <summary>Where environment variables come from (default: the process environment); lets tests inject values.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}

/// <summary>
/// Lazy, path-addressed substitution resolution with Lightbend's semantics:
/// lookups walk from the root, resolving only what lies on the path; a value in a merge stack that refers to its own
/// path sees the stack below it (the delayed merge is replaced by its remainder while that item resolves);
/// re-entering a path being resolved is a cycle, caught by the nearest substitution (optional ones become undefined).
/// </summary>
internal sealed class Resolver
{
    private readonly ResolveOptions _options;
    private readonly Dictionary<(Source, string), HoconValue?> _memo = [];
    private readonly HashSet<(Source, string)> _inProgress = [];

    private Resolver(ResolveOptions options) => _options = options;

    public static HoconObject ResolveRoot(HoconObject root, ResolveOptions options)
    {
        if (root.IsResolved) return root;
        var r = new Resolver(options);
        var source = new Source(root, null, null, null);
        return (HoconObject)(r.ResolvedAt(source, [])
            ?? throw new HoconException(root.Origin, "root object resolved to nothing"));
    }

    private sealed class CycleException(string[] path) : Exception("cycle")
    {
        public string[] Path { get; } = path;
    }

    /// <summary>The root plus a chain of replacements (path → value or removal) used while resolving self-references.</summary>
    private sealed class Source(HoconObject root, Source? parent, string? replacedKey, HoconValue? replacement)
    {
        public HoconObject Root { get; } = root;
        private readonly Dictionary<(string, int), Source> _children = [];

        public bool TryGetReplacement(string pathKey, out HoconValue? value)
        {
            // The most recent replacement of a path wins (nested self-references peel the stack one level at a time).
            for (var s = this; s is not null; s = s.Parent)
            {
                if (s.ReplacedKey == pathKey)
                {
                    value = s.Replacement;
                    return true;
                }
            }
            value = null;
            return false;
        }

        public Source? Parent { get; } = parent;
        public string? ReplacedKey { get; } = replacedKey;
        public HoconValue? Replacement { get; } = replacement;

        public Source Replace(string pathKey, DelayedMerge merge, int from)
        {
            if (_children.TryGetValue((pathKey, from), out var cached)) return cached;
            HoconValue? remainder = (merge.Stack.Count - from) switch
            {
                <= 0 => null,
                1 => merge.Stack[from],
                _ => new DelayedMerge(merge.Stack[from].Origin, merge.Stack.Skip(from).ToArray()),
            };
            var s = new Source(Root, this, pathKey, remainder);
            _children[(pathKey, from)] = s;
            return s;
        }
    }

    private static string Key(IReadOnlyList<string> path) => string.Join('\u0001', path) + "\u0002" + path.Count;

    /// <summary>The resolved value at a path of the source's tree, or null when absent or undefined.</summary>
    private HoconValue? ResolvedAt(Source source, string[] path)
    {
        var key = (source, Key(path));
        if (_memo.TryGetValue(key, out var memo)) return memo;
        if (!_inProgress.Add(key)) throw new CycleException(path);
        HoconValue? result;
        try
        {
            var raw = RawAt(source, path);
            result = raw is null ? null : Resolve(raw, source, path, atPath: true);
        }
        finally
        {
            _inProgress.Remove(key);
        }
        _memo[key] = result;
        return result;
    }

    /// <summary>The unresolved value at a path, resolving intermediate values only where they are not plain objects.</summary>
    private HoconValue? RawAt(Source source, string[] path)
    {
        HoconValue node = source.Root;
        for (int i = 0; i < path.Length; i++)
        {
            var prefix = path[..(i + 1)];
            if (source.TryGetReplacement(Key(prefix), out var replacement))
            {
                if (replacement is null) return null;
                node = replacement;
                continue;
            }
            HoconObject? obj = node as HoconObject;
            if (obj is null && node is Unresolved) obj = ResolvedAt(source, path[..i]) as HoconObject;
            if (obj is null || !obj.TryGetValue(path[i], out var child)) return null;
            node = child;
        }
        return node;
    }

    private HoconValue? Resolve(HoconValue node, Source source, string[]? path, bool atPath)
    {
        if (node.IsResolved) return node;
        switch (node)
        {
            case HoconObject o:
            {
                var fields = new List<KeyValuePair<string, HoconValue>>(o.Count);
                foreach (var (k, v) in o.Fields)
                {
                    string[]? childPath = path is null ? null : [.. path, k];
                    var r = atPath ? ResolvedAt(source, childPath!) : Resolve(v, source, childPath, false);
                    if (r is not null) fields.Add(new(k, r));
                }
                return new HoconObject(o.Origin, fields, o.IgnoresFallbacks);
            }
            case HoconList l:
            {
                var items = new List<HoconValue>(l.Items.Count);
                foreach (var item in l.Items)
                {
                    var r = Resolve(item, source, null, false);
                    if (r is not null) items.Add(r); // an undefined ${?x} in a list yields nothing
                }
                return new HoconList(l.Origin, items);
            }
            case Substitution s:
                return ResolveSubstitution(s, source);
            case Concatenation c:
            {
                var pieces = new List<HoconValue>(c.Pieces.Count);
                foreach (var p in c.Pieces)
                {
                    var r = Resolve(p, source, path, false);
                    if (r is not null) pieces.Add(r);
                }
                return Concat.ConcatenateOrNull(pieces);
            }
            case DelayedMerge d:
            {
                HoconValue? merged = null;
                var pathKey = path is null ? null : Key(path);
                for (int i = 0; i < d.Stack.Count; i++)
                {
                    var item = d.Stack[i];
                    // A substitution/concatenation in the stack sees the field as if it and everything above it were absent.
                    var itemSource = item is Unresolved && pathKey is not null ? source.Replace(pathKey, d, i + 1) : source;
                    var r = Resolve(item, itemSource, path, false);
                    if (r is null) continue;
                    merged = merged is null ? r : Merge.Values(merged, r);
                }
                return merged;
            }
            default:
                throw new InvalidOperationException($"cannot resolve {node.GetType().Name}");
        }
    }

    private HoconValue? ResolveSubstitution(Substitution s, Source source)
    {
        HoconValue? result;
        try
        {
            result = ResolvedAt(source, s.Path);
            var unprefixed = s.Path[s.PrefixLength..];
            // Substitutions from an included file look first under the include point, then from the root.
            if (result is null && s.PrefixLength > 0) result = ResolvedAt(source, unprefixed);
            if (result is null && _options.UseEnvironment && unprefixed.Length > 0)
            {
                var env = _options.Environment(string.Join('.', unprefixed));
                if (env is not null) result = new HoconString(new HoconOrigin($"env var {string.Join('.', unprefixed)}", 0, 0), env);
            }
        }
        catch (CycleException e)
        {
            if (s.Optional) return null;
            throw new HoconException(s.Origin, $"{s.Expression} was part of a cycle of substitutions involving ${{{HoconPath.Render(e.Path)}}}");
        }
        if (result is null && !s.Optional)
            throw new HoconException(s.Origin, $"Could not resolve substitution to a value: {s.Expression}");
        return result;
    }
}
