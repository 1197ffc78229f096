using System.Globalization;

namespace CoFUsfl.Hocon;

/// <summary>The kind of a resolved HOCON value.</summary>
public enum HoconType
{
    /// <summary>An object (map of keys to values).</summary>
    Object,
    /// <summary>A list.</summary>
    List,
    /// <summary>A number (int, long or double).</summary>
    Number,
    /// <summary>true or false.</summary>
    Boolean,
    /// <summary>The explicit <c>null</c>.</summary>
    Null,
    /// <summary>A string (quoted, unquoted or concatenated).</summary>
    String,
}

/// <summary>An immutable HOCON value with its origin.</summary>
public abstract class HoconValue
{
    private protected HoconValue(HoconOrigin origin) => Origin = origin;

    /// <summary>Where the value was defined.</summary>
    public HoconOrigin Origin { get; }

    /// <summary>The value's kind; throws for a value that still holds unresolved substitutions.</summary>
    public abstract HoconType Type { get; }

    /// <summary>True when the value (and everything inside it) has no substitutions left.</summary>
    public abstract bool IsResolved { get; }

    /// <summary>
    /// Lightbend's "ignores fallbacks": a resolved non-object hides everything below it in a merge;
    /// an object that was merged over a non-object (or null) does as well.
    /// </summary>
    internal abstract bool IgnoresFallbacks { get; }

    /// <summary>The string form used when this value takes part in a string concatenation, or null for objects and lists.</summary>
    internal virtual string? ConcatText => null;

    internal abstract HoconValue WithOrigin(HoconOrigin origin);

    /// <summary>Merges this value over <paramref name="fallback"/> (objects merge recursively, otherwise this value wins).</summary>
    public HoconValue WithFallback(HoconValue fallback) => Merge.Values(this, fallback);

    /// <summary>Renders as concise JSON (Lightbend <c>render(concise)</c>).</summary>
    public string ToJson() => Renderer.Json(this);

    /// <summary>Renders as HOCON text that parses back to the same value.</summary>
    public string Render() => Renderer.Hocon(this);

    /// <inheritdoc />
    public override string ToString() => IsResolved ? Renderer.Json(this) : $"<unresolved {GetType().Name}>";
}

/// <summary>A string value.</summary>
public sealed class HoconString : HoconValue
{
    /// <summary>Creates a string value.</summary>
    public HoconString(HoconOrigin origin, string value, bool quoted = true) : base(origin)
    {
        Value = value;
        Quoted = quoted;
    }

    /// <summary>The text.</summary>
    public string Value { get; }
    /// <summary>False for unquoted text (whitespace-only unquoted text between a list/object and another is dropped).</summary>
    public bool Quoted { get; }
    /// <inheritdoc />
    public override HoconType Type => HoconType.String;
    /// <inheritdoc />
    public override bool IsResolved => true;
    internal override bool IgnoresFallbacks => true;
    internal override string ConcatText => Value;
    internal override HoconValue WithOrigin(HoconOrigin origin) => new HoconString(origin, Value, Quoted);
}

/// <summary>A number: an int, a long or a double, remembering which (so 1.0 stays a double).</summary>
public sealed class HoconNumber : HoconValue
{
    private HoconNumber(HoconOrigin origin, NumberKind kind, long integer, double real, string? text) : base(origin)
    {
        Kind = kind;
        _integer = integer;
        _real = real;
        OriginalText = text;
    }

    private readonly long _integer;
    private readonly double _real;

    /// <summary>Int (fits 32 bits), Long or Double.</summary>
    public NumberKind Kind { get; }
    /// <summary>The text as written in the source, if parsed.</summary>
    public string? OriginalText { get; }

    /// <summary>Creates an integer number (int when it fits, else long).</summary>
    public static HoconNumber FromLong(HoconOrigin origin, long value, string? text = null) =>
        new(origin, value is >= int.MinValue and <= int.MaxValue ? NumberKind.Int : NumberKind.Long, value, value, text);

    /// <summary>Creates a double number.</summary>
    public static HoconNumber FromDouble(HoconOrigin origin, double value, string? text = null) =>
        new(origin, NumberKind.Double, 0, value, text);

    /// <summary>
    /// A number written with a '.' or an exponent: like Lightbend's ConfigNumber.newNumber, a whole value that a long
    /// holds exactly becomes an int/long (<c>1.0</c> and <c>1e3</c> render as <c>1</c> and <c>1000</c>) while keeping
    /// its original text for string use (<c>GetString</c> gives <c>1.0</c>).
    /// </summary>
    public static HoconNumber FromParsedDouble(HoconOrigin origin, double value, string? text = null)
    {
        var asLong = JavaDouble.ToLong(value);
        return (double)asLong == value ? FromLong(origin, asLong, text) : FromDouble(origin, value, text);
    }

    /// <summary>True for int or long.</summary>
    public bool IsIntegral => Kind != NumberKind.Double;
    /// <summary>The value as a double.</summary>
    public double AsDouble => Kind == NumberKind.Double ? _real : _integer;
    /// <summary>The value as a long (doubles truncated toward zero like Java's <c>longValue()</c>).</summary>
    public long AsLong => Kind == NumberKind.Double ? JavaDouble.ToLong(_real) : _integer;

    /// <inheritdoc />
    public override HoconType Type => HoconType.Number;
    /// <inheritdoc />
    public override bool IsResolved => true;
    internal override bool IgnoresFallbacks => true;
    // Lightbend concatenates a number using its original text ("1.0" stays "1.0", "01" stays "01").
    internal override string ConcatText => OriginalText ?? JavaText;
    /// <summary>The number as Java's toString would print it (what Lightbend's JSON rendering shows).</summary>
    public string JavaText => Kind == NumberKind.Double ? JavaDouble.ToString(_real) : _integer.ToString(CultureInfo.InvariantCulture);
    internal override HoconValue WithOrigin(HoconOrigin origin) => new HoconNumber(origin, Kind, _integer, _real, OriginalText);
}

/// <summary>Which Java type a number has.</summary>
public enum NumberKind
{
    /// <summary>32-bit integer.</summary>
    Int,
    /// <summary>64-bit integer.</summary>
    Long,
    /// <summary>64-bit floating point.</summary>
    Double,
}

/// <summary>true or false.</summary>
public sealed class HoconBoolean(HoconOrigin origin, bool value) : HoconValue(origin)
{
    /// <summary>The value.</summary>
    public bool Value { get; } = value;
    /// <inheritdoc />
    public override HoconType Type => HoconType.Boolean;
    /// <inheritdoc />
    public override bool IsResolved => true;
    internal override bool IgnoresFallbacks => true;
    internal override string ConcatText => Value ? "true" : "false";
    internal override HoconValue WithOrigin(HoconOrigin origin) => new HoconBoolean(origin, Value);
}

/// <summary>The explicit <c>null</c>: it resets merges and blocks the environment-variable fallback.</summary>
public sealed class HoconNull(HoconOrigin origin) : HoconValue(origin)
{
    /// <inheritdoc />
    public override HoconType Type => HoconType.Null;
    /// <inheritdoc />
    public override bool IsResolved => true;
    internal override bool IgnoresFallbacks => true;
    internal override string ConcatText => "null";
    internal override HoconValue WithOrigin(HoconOrigin origin) => new HoconNull(origin);
}

/// <summary>An immutable list.</summary>
public sealed class HoconList : HoconValue
{
    /// <summary>Creates a list.</summary>
    public HoconList(HoconOrigin origin, IEnumerable<HoconValue> items) : base(origin)
    {
        Items = items.ToArray();
        _resolved = Items.All(i => i.IsResolved);
    }

    private readonly bool _resolved;
    /// <summary>The elements.</summary>
    public IReadOnlyList<HoconValue> Items { get; }
    /// <inheritdoc />
    public override HoconType Type => HoconType.List;
    /// <inheritdoc />
    public override bool IsResolved => _resolved;
    // An unresolved list may still need the values below it (self-references), so only resolved lists hide fallbacks.
    internal override bool IgnoresFallbacks => _resolved;
    internal override HoconValue WithOrigin(HoconOrigin origin) => new HoconList(origin, Items);
}

/// <summary>An immutable object; keys keep their first-definition order (rendering sorts them).</summary>
public sealed class HoconObject : HoconValue
{
    private readonly Dictionary<string, HoconValue> _fields;
    private readonly List<string> _order;
    private readonly bool _ignoresFallbacks;
    private readonly IReadOnlyDictionary<string, HoconOrigin>? _keyOrigins;
    private bool? _resolved;

    /// <summary>Where a key was written (the key itself when parsed, else the value's origin).</summary>
    public HoconOrigin KeyOrigin(string key) =>
        _keyOrigins is not null && _keyOrigins.TryGetValue(key, out var o) ? o : this[key]?.Origin ?? Origin;

    internal IReadOnlyDictionary<string, HoconOrigin>? KeyOrigins => _keyOrigins;

    /// <summary>Creates an object from ordered fields.</summary>
    public HoconObject(HoconOrigin origin, IEnumerable<KeyValuePair<string, HoconValue>> fields) : this(origin, fields, false) { }

    internal HoconObject(HoconOrigin origin, IEnumerable<KeyValuePair<string, HoconValue>> fields, bool ignoresFallbacks,
        IReadOnlyDictionary<string, HoconOrigin>? keyOrigins = null) : base(origin)
    {
        _keyOrigins = keyOrigins;
        _fields = new Dictionary<string, HoconValue>(StringComparer.Ordinal);
        _order = [];
        foreach (var (k, v) in fields)
        {
            if (!_fields.ContainsKey(k)) _order.Add(k);
            _fields[k] = v;
        }
        _ignoresFallbacks = ignoresFallbacks;
    }

    /// <summary>An empty object.</summary>
    public static HoconObject Empty(HoconOrigin origin) => new(origin, []);

    /// <summary>Keys in definition order.</summary>
    public IReadOnlyList<string> Keys => _order;
    /// <summary>Number of fields.</summary>
    public int Count => _order.Count;
    /// <summary>Fields in definition order.</summary>
    public IEnumerable<KeyValuePair<string, HoconValue>> Fields => _order.Select(k => new KeyValuePair<string, HoconValue>(k, _fields[k]));
    /// <summary>The value of a direct child key, or null.</summary>
    public HoconValue? this[string key] => _fields.GetValueOrDefault(key);
    /// <summary>True when the object has the direct child key.</summary>
    public bool ContainsKey(string key) => _fields.ContainsKey(key);
    /// <summary>Tries to get a direct child.</summary>
    public bool TryGetValue(string key, out HoconValue value) => _fields.TryGetValue(key, out value!);

    /// <inheritdoc />
    public override HoconType Type => HoconType.Object;
    /// <inheritdoc />
    public override bool IsResolved => _resolved ??= _fields.Values.All(v => v.IsResolved);
    internal override bool IgnoresFallbacks => _ignoresFallbacks;
    internal HoconObject WithIgnoresFallbacks(bool ignore) => ignore == _ignoresFallbacks ? this : new HoconObject(Origin, Fields, ignore, _keyOrigins);
    internal override HoconValue WithOrigin(HoconOrigin origin) => new HoconObject(origin, Fields, _ignoresFallbacks, _keyOrigins);

    /// <summary>A copy with <paramref name="key"/> set (or replaced).</summary>
    public HoconObject With(string key, HoconValue value) =>
        new(Origin, _fields.ContainsKey(key) ? Fields.Select(f => f.Key == key ? new KeyValuePair<string, HoconValue>(key, value) : f) : Fields.Append(new(key, value)), _ignoresFallbacks);

    /// <summary>A copy without <paramref name="key"/>.</summary>
    public HoconObject Without(string key) => _fields.ContainsKey(key) ? new HoconObject(Origin, Fields.Where(f => f.Key != key), _ignoresFallbacks) : this;

    /// <summary>Looks up a path of keys through nested objects; null when absent.</summary>
    public HoconValue? Peek(IReadOnlyList<string> path)
    {
        HoconValue current = this;
        foreach (var key in path)
        {
            if (current is not HoconObject o || !o._fields.TryGetValue(key, out var next)) return null;
            current = next;
        }
        return current;
    }
}

/// <summary>Base of the values that only exist before resolution.</summary>
internal abstract class Unresolved(HoconOrigin origin) : HoconValue(origin)
{
    public override HoconType Type => throw new HoconException(Origin, "value has unresolved substitutions: call Resolve() first");
    public override bool IsResolved => false;
}

/// <summary><c>${path}</c> or <c>${?path}</c>. PrefixLength counts the leading keys added when an included file was relativized.</summary>
internal sealed class Substitution(HoconOrigin origin, string[] path, bool optional, int prefixLength = 0) : Unresolved(origin)
{
    public string[] Path { get; } = path;
    public bool Optional { get; } = optional;
    public int PrefixLength { get; } = prefixLength;
    internal override bool IgnoresFallbacks => false;
    internal override HoconValue WithOrigin(HoconOrigin origin) => new Substitution(origin, Path, Optional, PrefixLength);
    public string Expression => "${" + (Optional ? "?" : "") + HoconPath.Render(Path) + "}";
}

/// <summary>Adjacent values that could not be joined before resolution (at least one is a substitution).</summary>
internal sealed class Concatenation(HoconOrigin origin, IReadOnlyList<HoconValue> pieces) : Unresolved(origin)
{
    public IReadOnlyList<HoconValue> Pieces { get; } = pieces;
    internal override bool IgnoresFallbacks => false;
    internal override HoconValue WithOrigin(HoconOrigin origin) => new Concatenation(origin, Pieces);
}

/// <summary>A merge stack (highest priority first) that can only be merged after its substitutions are resolved.</summary>
internal sealed class DelayedMerge(HoconOrigin origin, IReadOnlyList<HoconValue> stack) : Unresolved(origin)
{
    public IReadOnlyList<HoconValue> Stack { get; } = stack;
    internal override bool IgnoresFallbacks => Stack[^1].IgnoresFallbacks;
    internal override HoconValue WithOrigin(HoconOrigin origin) => new DelayedMerge(origin, Stack);
}
