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
    // Like Lightbend's ResolveMemos: keyed by node identity whatever the source, and only for defined results.
    private readonly Dictionary<HoconValue, HoconValue> _memo = new(ReferenceEqualityComparer.Instance);
    // Lightbend copies the ancestors of a replaced value (new identities), so their results must not be shared
    // with the unmodified tree: those are memoized per source.
    private readonly Dictionary<Source, Dictionary<HoconValue, HoconValue>> _sourceMemo = new(ReferenceEqualityComparer.Instance);
    // Like Lightbend's cycle markers: substitutions currently being looked up.
    private readonly HashSet<Substitution> _markers = new(ReferenceEqualityComparer.Instance);

    // Nested Resolve calls: one per level of the tree, substitution hop and merge-stack item on the way. Resolution
    // recurses (about 1.5 KiB of stack a call), so a long chain of substitutions (a1 = ${a0}, a2 = ${a1}, ...) is
    // bounded here, and on a thread with a small stack by the stack probe, never by a stack overflow.
    private const int MaxResolveDepth = 2 * Config.MaxNestingDepth;
    private int _depth;

    private Resolver(ResolveOptions options) => _options = options;

    public static HoconObject ResolveRoot(HoconObject root, ResolveOptions options)
    {
        if (root.IsResolved) return root;
        var r = new Resolver(options);
        var source = new Source(root, null, null, null);
        var resolved = (HoconObject)(r.ResolvedAt(source, [])
            ?? throw new HoconException(root.Origin, "root object resolved to nothing"));
        CheckDepth(resolved);
        return resolved;
    }

    /// <summary>
    /// Substitutions can splice objects into objects (x2 = { a = ${x1} }), so a shallow file may resolve deep; everything
    /// that walks the result (renderer, binder, merge) recurses, so the result is held to <see cref="Config.MaxNestingDepth"/>.
    /// Walks level by level, each shared node once per level (resolution shares memoized values).
    /// </summary>
    private static void CheckDepth(HoconValue root)
    {
        var level = new List<HoconValue> { root };
        for (var depth = 1; level.Count > 0; depth++)
        {
            if (depth > Config.MaxNestingDepth)
                throw new HoconException(level[0].Origin, $"nested deeper than {Config.MaxNestingDepth} levels after substitution (objects and lists together); flatten the configuration");
            var seen = new HashSet<HoconValue>(ReferenceEqualityComparer.Instance);
            var next = new List<HoconValue>();
            foreach (var v in level)
            {
                IEnumerable<HoconValue> children = v switch { HoconObject o => o.Fields.Select(f => f.Value), HoconList l => l.Items, _ => [] };
                foreach (var c in children)
                    if (c is HoconObject or HoconList && seen.Add(c)) next.Add(c);
            }
            level = next;
        }
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

        public string[]? ReplacedPath { get; private init; }

        /// <summary>True when a replacement lies strictly below <paramref name="path"/> (the value there is a modified copy).</summary>
        public bool HasReplacementBelow(string[] path)
        {
            for (var s = this; s is not null; s = s.Parent)
            {
                var r = s.ReplacedPath;
                if (r is null || r.Length <= path.Length) continue;
                bool prefix = true;
                for (int i = 0; i < path.Length && prefix; i++) prefix = r[i] == path[i];
                if (prefix) return true;
            }
            return false;
        }

        public Source Replace(string[] path, DelayedMerge merge, int from) => Replace(Key(path), merge, from, path);

        private Source Replace(string pathKey, DelayedMerge merge, int from, string[] path)
        {
            if (_children.TryGetValue((pathKey, from), out var cached)) return cached;
            HoconValue? remainder = (merge.Stack.Count - from) switch
            {
                <= 0 => null,
                1 => merge.Stack[from],
                _ => new DelayedMerge(merge.Stack[from].Origin, merge.Stack.Skip(from).ToArray()),
            };
            var s = new Source(Root, this, pathKey, remainder) { ReplacedPath = path };
            _children[(pathKey, from)] = s;
            return s;
        }
    }

    /// <summary>java.util.HashMap iteration order: bucket of the spread String.hashCode, then insertion order.</summary>
    internal static IEnumerable<string> JavaHashMapOrder(IReadOnlyList<string> keys)
    {
        int capacity = 16;
        while (keys.Count > capacity * 3 / 4) capacity *= 2;
        return keys.Select((k, i) => (k, i)).OrderBy(x => Bucket(x.k, capacity)).ThenBy(x => x.i).Select(x => x.k);
    }

    private static int Bucket(string key, int capacity)
    {
        int h = 0;
        foreach (var c in key) h = unchecked(31 * h + c);
        h ^= (int)((uint)h >> 16);
        return h & (capacity - 1);
    }

    // Internal path segment for a list element; keys from files never start with NUL.
    private static string IndexKey(int i) => "\0#" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static bool IsIndexKey(string segment, out int index)
    {
        index = 0;
        return segment.StartsWith("\0#", StringComparison.Ordinal)
            && int.TryParse(segment.AsSpan(2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index);
    }

    private static string Key(IReadOnlyList<string> path) => string.Join('\u0001', path) + "\u0002" + path.Count;

    /// <summary>The resolved value at a path of the source's tree, or null when absent or undefined.</summary>
    private HoconValue? ResolvedAt(Source source, string[] path)
    {
        var raw = RawAt(source, path);
        return raw is null ? null : Resolve(raw, source, path, atPath: true);
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
            HoconValue? child;
            if (IsIndexKey(path[i], out var index))
            {
                var list = node as HoconList ?? (node is Unresolved ? ResolvedAt(source, path[..i]) as HoconList : null);
                if (list is null || index >= list.Items.Count) return null;
                child = list.Items[index];
            }
            else if (node is HoconObject obj)
            {
                if (!obj.TryGetValue(path[i], out child)) return null;
            }
            else if (node is DelayedMerge merge)
                child = ChildOfMerge(merge, source, path[..i], path[i]);
            else if (node is Unresolved)
                child = (ResolvedAt(source, path[..i]) as HoconObject)?[path[i]];
            else
                return null;
            if (child is null) return null;
            node = child;
        }
        return node;
    }

    /// <summary>
    /// The (unresolved) value a key would have in a merge stack, resolving only the stack items that must be
    /// resolved to know whether they are objects: this keeps lookups through a delayed merge from resolving
    /// unrelated siblings (which could otherwise look like a cycle), as Lightbend's restrictToChild does.
    /// </summary>
    private HoconValue? ChildOfMerge(DelayedMerge merge, Source source, string[] mergePath, string key)
    {
        var children = new List<HoconValue>();
        for (int i = 0; i < merge.Stack.Count; i++)
        {
            var item = merge.Stack[i];
            if (item is Unresolved)
            {
                var r = Resolve(item, source.Replace(mergePath, merge, i + 1), mergePath, false);
                if (r is null) continue;
                item = r;
            }
            if (item is not HoconObject o) break; // a non-object hides everything below it from the objects above
            if (o.TryGetValue(key, out var child)) children.Add(child);
            if (o.IgnoresFallbacks) break;
        }
        if (children.Count == 0) return null;
        var merged = children[^1];
        for (int j = children.Count - 2; j >= 0; j--) merged = Merge.Values(children[j], merged);
        return merged;
    }

    private HoconValue? Resolve(HoconValue node, Source source, string[]? path, bool atPath)
    {
        if (node.IsResolved) return node;
        var memoTable = path is not null && source.HasReplacementBelow(path)
            ? (_sourceMemo.TryGetValue(source, out var t) ? t : _sourceMemo[source] = new Dictionary<HoconValue, HoconValue>(ReferenceEqualityComparer.Instance))
            : _memo;
        if (memoTable.TryGetValue(node, out var memo)) return memo;
        try
        {
            if (++_depth > MaxResolveDepth || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
                throw new HoconException(node.Origin, $"substitutions nested deeper than {MaxResolveDepth} levels (a chain of ${{}} references, each through the next); flatten the configuration");
            var result = ResolveUncached(node, source, path, atPath);
            if (result is not null) memoTable[node] = result;
            return result;
        }
        finally
        {
            _depth--;
        }
    }

    private HoconValue? ResolveUncached(HoconValue node, Source source, string[]? path, bool atPath)
    {
        switch (node)
        {
            case HoconObject o:
            {
                var resolved = new Dictionary<string, HoconValue>(StringComparer.Ordinal);
                // Fields resolve in java.util.HashMap order, as in Lightbend: with identity memoization the order
                // decides which look-back context a shared value is first resolved in.
                foreach (var k in JavaHashMapOrder(o.Keys))
                {
                    string[]? childPath = path is null ? null : [.. path, k];
                    var r = atPath ? ResolvedAt(source, childPath!) : ResolveChild(o[k]!, source, childPath);
                    if (r is not null) resolved[k] = r;
                }
                return new HoconObject(o.Origin, o.Keys.Where(resolved.ContainsKey).Select(k => new KeyValuePair<string, HoconValue>(k, resolved[k])), o.IgnoresFallbacks, o.KeyOrigins);
            }
            case HoconList l:
            {
                var items = new List<HoconValue>(l.Items.Count);
                for (int i = 0; i < l.Items.Count; i++)
                {
                    // Elements get internal index paths so a merge stack inside a list can look back positionally.
                    string[]? childPath = path is null ? null : [.. path, IndexKey(i)];
                    var r = atPath ? ResolvedAt(source, childPath!) : ResolveChild(l.Items[i], source, childPath);
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
                for (int i = 0; i < d.Stack.Count; i++)
                {
                    var item = d.Stack[i];
                    // A substitution/concatenation in the stack sees the field as if it and everything above it were absent.
                    var itemSource = item is Unresolved && path is not null ? source.Replace(path, d, i + 1) : source;
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

    /// <summary>
    /// A child met while resolving a value that is not itself the tree's value at its path (an item of a merge stack):
    /// a look-back replacement at the child's path still applies, as Lightbend propagates it through its parents.
    /// </summary>
    private HoconValue? ResolveChild(HoconValue child, Source source, string[]? childPath)
    {
        if (childPath is not null && source.TryGetReplacement(Key(childPath), out var replacement))
            return replacement is null ? null : Resolve(replacement, source, childPath, false);
        return Resolve(child, source, childPath, false);
    }

    private HoconValue? ResolveSubstitution(Substitution s, Source source)
    {
        // Re-entering a substitution that is being looked up is a cycle; the nearest enclosing substitution decides
        // (an optional one becomes undefined, a required one is an error).
        if (!_markers.Add(s)) throw new CycleException(s.Path);
        HoconValue? result;
        try
        {
            result = ResolvedAt(source, s.Path);
            var unprefixed = s.Path[s.PrefixLength..];
            // Substitutions from an included file look first under the include point, then from the root.
            if (result is null && s.PrefixLength > 0) result = ResolvedAt(source, unprefixed);
            // The environment is a flat object keyed by variable name (as in Lightbend): ${HOME} and ${"A.B"} can
            // match a variable, ${A.B} cannot.
            if (result is null && _options.UseEnvironment && unprefixed.Length == 1)
            {
                var env = _options.Environment(unprefixed[0]);
                if (env is not null) result = new HoconString(new HoconOrigin($"env var {unprefixed[0]}", 0, 0), env);
            }
        }
        catch (CycleException e)
        {
            if (s.Optional) return null;
            throw new HoconException(s.Origin, $"{s.Expression} was part of a cycle of substitutions involving ${{{HoconPath.Render(e.Path)}}}");
        }
        finally
        {
            _markers.Remove(s);
        }
        if (result is null && !s.Optional)
            throw new HoconException(s.Origin, $"Could not resolve substitution to a value: {s.Expression}");
        return result;
    }
}
