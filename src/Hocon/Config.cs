using System.Globalization;

namespace CoFUsfl.Hocon;

/// <summary>
/// An immutable configuration: a root object plus typed getters by path. Parse, merge over a fallback
/// (<c>app.WithFallback(reference)</c>), <see cref="Resolve(ResolveOptions?)"/>, then read.
/// </summary>
public sealed class Config
{
    private readonly string[] _prefix;

    /// <summary>Wraps a root object.</summary>
    public Config(HoconObject root) : this(root, []) { }

    private Config(HoconObject root, string[] prefix)
    {
        Root = root;
        _prefix = prefix;
    }

    /// <summary>The root object (may hold unresolved substitutions before <see cref="Resolve(ResolveOptions?)"/>).</summary>
    public HoconObject Root { get; }

    /// <summary>The path of this config inside the config it was taken from (for error messages).</summary>
    public IReadOnlyList<string> PathPrefix => _prefix;

    /// <summary>
    /// Deepest nesting a configuration may have, before and after substitution: objects, lists and key path segments
    /// together (<c>a.b = [{}]</c> nests 4 deep counting the root). Deeper input is a <see cref="HoconException"/> at its
    /// position instead of a stack overflow; real configurations stay below 20.
    /// </summary>
    public const int MaxNestingDepth = 256;

    /// <summary>An empty configuration.</summary>
    public static Config Empty { get; } = new(HoconObject.Empty(HoconOrigin.Synthetic("empty config")));

    /// <summary>Parses HOCON (or JSON/properties) text. Includes are relative to the working directory.</summary>
    public static Config ParseString(string text, string originDescription = "String", HoconSyntax syntax = HoconSyntax.Conf)
    {
        var v = Parser.ParseDocument(text, new HoconOrigin(originDescription, 1, 1), syntax, Includer.ForString());
        return new Config(v as HoconObject ?? throw new HoconException(v.Origin, "object at root has type list rather than object"));
    }

    /// <summary>Parses a file; the syntax comes from the extension (.json strict JSON, .properties, otherwise HOCON).</summary>
    public static Config ParseFile(string path, HoconSyntax? syntax = null)
    {
        if (!File.Exists(path))
            throw new HoconException(new HoconOrigin(path, 1, 1), Directory.Exists(path) ? "is a directory, not a config file" : "file not found");
        return new Config(Includer.ParseFile(path, syntax, null, null));
    }

    /// <summary>
    /// Parses one HOCON value (concatenations and substitutions allowed), e.g. the value of <c>-D path=value</c>;
    /// <paramref name="columnOffset"/> shifts reported columns when the text was cut out of a longer line.
    /// </summary>
    public static HoconValue ParseValue(string text, string originDescription = "value", int columnOffset = 0) =>
        Parser.ParseSingleValue(text, new HoconOrigin(originDescription, 1, 1), Includer.ForString(), columnOffset);

    /// <summary>True when no substitutions are left.</summary>
    public bool IsResolved => Root.IsResolved;

    /// <summary>Resolves substitutions (environment-variable fallback per <paramref name="options"/>).</summary>
    public Config Resolve(ResolveOptions? options = null) =>
        IsResolved ? this : new Config(Resolver.ResolveRoot(Root, options ?? ResolveOptions.Default), _prefix);

    /// <summary>This config over <paramref name="fallback"/>: objects merge recursively, this side wins.</summary>
    public Config WithFallback(Config fallback) =>
        new((HoconObject)Merge.Values(Root, fallback.Root), _prefix);

    /// <summary>A copy with the value at <paramref name="path"/> set (replacing whatever was there).</summary>
    public Config WithValue(string path, HoconValue value)
    {
        var keys = HoconPath.Parse(path);
        return new Config(SetAt(Root, keys, 0, value), _prefix);
    }

    private static HoconObject SetAt(HoconObject obj, IReadOnlyList<string> keys, int i, HoconValue value)
    {
        if (i == keys.Count - 1) return obj.With(keys[i], value);
        var child = obj[keys[i]] as HoconObject ?? HoconObject.Empty(value.Origin);
        return obj.With(keys[i], SetAt(child, keys, i + 1, value));
    }

    /// <summary>Merges a raw value at a path over this config before resolution (used for <c>-D</c> overrides).</summary>
    public Config WithOverride(string path, HoconValue value)
    {
        var keys = HoconPath.Parse(path, value.Origin);
        if (keys.Count > MaxNestingDepth) throw Parser.TooDeep(value.Origin);
        HoconValue nested = value;
        for (int i = keys.Count - 1; i >= 0; i--)
            nested = new HoconObject(value.Origin, [new(keys[i], nested)], false, new Dictionary<string, HoconOrigin> { [keys[i]] = value.Origin with { Column = 1 } });
        return new Config((HoconObject)Merge.Values(nested, Root), _prefix);
    }

    /// <summary>Concise JSON, keys sorted like Lightbend's renderer.</summary>
    public string ToJson() => Root.ToJson();

    /// <summary>HOCON text that parses back to the same tree.</summary>
    public string Render() => Root.Render();

    private string Full(IReadOnlyList<string> keys) => HoconPath.Render(_prefix.Concat(keys));

    private HoconValue? Find(string path, out IReadOnlyList<string> keys, out HoconOrigin nearest)
    {
        keys = HoconPath.Parse(path);
        nearest = Root.Origin;
        HoconValue current = Root;
        foreach (var key in keys)
        {
            if (current is not HoconObject o) return null;
            if (!o.IsResolved && o[key] is { IsResolved: false } u && u is not HoconObject)
                throw new HoconException(u.Origin, $"'{Full(keys)}' has unresolved substitutions: call Resolve() first");
            nearest = o.Origin;
            if (!o.TryGetValue(key, out var next)) return null;
            current = next;
        }
        return current;
    }

    /// <summary>True when the path exists and is not null.</summary>
    public bool HasPath(string path) => Find(path, out _, out _) is { } v && v is not HoconNull;

    /// <summary>True when the path exists, even if its value is null.</summary>
    public bool HasPathOrNull(string path) => Find(path, out _, out _) is not null;

    /// <summary>True when the path exists and is set to null (throws when missing).</summary>
    public bool IsNull(string path) => GetValueOrNull(path) is HoconNull;

    private HoconValue GetValueOrNull(string path)
    {
        var v = Find(path, out var keys, out var nearest);
        return v ?? throw new HoconException(nearest, $"No configuration setting found for key '{Full(keys)}'");
    }

    /// <summary>The value at a path (missing or null is an error).</summary>
    public HoconValue GetValue(string path)
    {
        var v = GetValueOrNull(path);
        if (v is HoconNull) throw new HoconException(v.Origin, $"Configuration key '{Full(HoconPath.Parse(path))}' is set to null but expected a value");
        return v;
    }

    private HoconException WrongType(string path, HoconValue v, string expected) =>
        new(v.Origin, $"'{Full(HoconPath.Parse(path))}' has type {Describe(v)} rather than {expected}");

    private static string Describe(HoconValue v) => v switch
    {
        HoconString s => $"STRING (\"{s.Value}\")",
        HoconNumber n => $"NUMBER ({n.JavaText})",
        HoconBoolean b => $"BOOLEAN ({(b.Value ? "true" : "false")})",
        _ => v.Type.ToString().ToUpperInvariant(),
    };

    internal static HoconNumber? AsNumber(HoconValue v) => v switch
    {
        HoconNumber n => n,
        HoconString s when long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => HoconNumber.FromLong(s.Origin, l, s.Value),
        HoconString s when double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => HoconNumber.FromDouble(s.Origin, d, s.Value),
        _ => null,
    };

    internal static bool? AsBoolean(HoconValue v) => v switch
    {
        HoconBoolean b => b.Value,
        HoconString { Value: "true" or "yes" or "on" } => true,
        HoconString { Value: "false" or "no" or "off" } => false,
        _ => null,
    };

    private HoconNumber Number(string path)
    {
        var v = GetValue(path);
        return AsNumber(v) ?? throw WrongType(path, v, "NUMBER");
    }

    /// <summary>An int (numeric strings are converted; doubles truncate like Java).</summary>
    public int GetInt(string path)
    {
        var n = Number(path);
        var l = n.AsLong;
        if (n.IsIntegral && l is < int.MinValue or > int.MaxValue)
            throw new HoconException(n.Origin, $"'{Full(HoconPath.Parse(path))}' has type out-of-range value {l} rather than 32-bit integer");
        return n.IsIntegral ? (int)l : (int)Math.Clamp(Math.Truncate(n.AsDouble), int.MinValue, int.MaxValue);
    }

    /// <summary>A long.</summary>
    public long GetLong(string path) => Number(path).AsLong;

    /// <summary>A double.</summary>
    public double GetDouble(string path) => Number(path).AsDouble;

    /// <summary>A boolean: true/false, or the strings yes/no/on/off/true/false.</summary>
    public bool GetBoolean(string path)
    {
        var v = GetValue(path);
        return AsBoolean(v) ?? throw WrongType(path, v, "BOOLEAN");
    }

    /// <summary>A string (numbers and booleans convert to their text).</summary>
    public string GetString(string path)
    {
        var v = GetValue(path);
        return v is HoconString or HoconNumber or HoconBoolean ? v.ConcatText! : throw WrongType(path, v, "STRING");
    }

    /// <summary>A duration: <c>10 s</c>, <c>5ms</c>, <c>2 minutes</c>; a bare number is milliseconds.</summary>
    public TimeSpan GetDuration(string path) => TimeSpan.FromTicks(GetDurationNanos(path) / 100);

    /// <summary>A duration in nanoseconds.</summary>
    public long GetDurationNanos(string path)
    {
        var v = GetValue(path);
        return DurationNanos(v, Full(HoconPath.Parse(path))) ?? throw WrongType(path, v, "duration (NUMBER or STRING)");
    }

    /// <summary>A duration, warning <paramref name="warnBareNumber"/> (when given) about a non-zero number without a unit (see <see cref="BareDurationWarning"/>).</summary>
    public TimeSpan GetDuration(string path, Action<string>? warnBareNumber)
    {
        var v = GetValue(path);
        var ns = DurationNanos(v, Full(HoconPath.Parse(path)), warnBareNumber) ?? throw WrongType(path, v, "duration (NUMBER or STRING)");
        return TimeSpan.FromTicks(ns / 100);
    }

    internal static long? DurationNanos(HoconValue v, string fullPath, Action<string>? warnBareNumber = null)
    {
        if (warnBareNumber is not null && BareDurationWarning(v, fullPath) is { } warning) warnBareNumber(warning);
        return v switch
        {
            HoconNumber n => n.IsIntegral ? n.AsLong * 1_000_000L : JavaDouble.ToLong(n.AsDouble * 1_000_000d),
            HoconString s => Units.ParseDurationNanos(s.Value, s.Origin, fullPath),
            _ => null,
        };
    }

    /// <summary>
    /// <c>FILE:LINE:COLUMN: warning: ...</c> for a duration given as a non-zero number without a unit (HOCON reads it as
    /// milliseconds, rarely what <c>round-deadline = 30</c> means); null for anything else.
    /// </summary>
    public static string? BareDurationWarning(HoconValue v, string fullPath)
    {
        var text = v switch
        {
            HoconNumber n when n.AsDouble != 0 => n.JavaText,
            HoconString s when double.TryParse(s.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d != 0 => s.Value.Trim(),
            _ => null,
        };
        return text is null ? null
            : $"{v.Origin}: warning: '{fullPath}' = {text} has no unit and is read as {text} ms; write the unit ({text} ms, {text} s, ...)";
    }

    /// <summary>A period: <c>10 d</c>, <c>2w</c>, <c>3 months</c> (<c>m</c> is months here), <c>1y</c>; a bare number is days.</summary>
    public HoconPeriod GetPeriod(string path)
    {
        var v = GetValue(path);
        return v is HoconString or HoconNumber
            ? Units.ParsePeriod(v.ConcatText!, v.Origin, Full(HoconPath.Parse(path)))
            : throw WrongType(path, v, "period (NUMBER or STRING)");
    }

    /// <summary>A size in bytes: <c>512</c>, <c>10 kB</c> (1000), <c>4 KiB</c> or <c>4K</c> (1024), <c>1 GiB</c>.</summary>
    public long GetBytes(string path)
    {
        var v = GetValue(path);
        return v switch
        {
            HoconNumber n => n.AsLong,
            HoconString s => Units.ParseBytes(s.Value, s.Origin, Full(HoconPath.Parse(path))),
            _ => throw WrongType(path, v, "size in bytes (NUMBER or STRING)"),
        };
    }

    /// <summary>A list; an object with numeric keys (<c>a.0</c>, <c>a.1</c>) reads as a list.</summary>
    public IReadOnlyList<HoconValue> GetList(string path)
    {
        var v = GetValue(path);
        return v switch
        {
            HoconList l => l.Items,
            HoconObject o when Lists.FromNumericKeys(o) is { } l => l.Items,
            _ => throw WrongType(path, v, "LIST"),
        };
    }

    private IReadOnlyList<T> ListOf<T>(string path, string expected, Func<HoconValue, T?> convert) where T : struct
    {
        var items = GetList(path);
        var result = new List<T>(items.Count);
        for (int i = 0; i < items.Count; i++)
            result.Add(convert(items[i]) ?? throw new HoconException(items[i].Origin, $"'{Full(HoconPath.Parse(path))}' list element {i} has type {Describe(items[i])} rather than {expected}"));
        return result;
    }

    /// <summary>A list of strings.</summary>
    public IReadOnlyList<string> GetStringList(string path)
    {
        var items = GetList(path);
        return items.Select((v, i) => v is HoconString or HoconNumber or HoconBoolean ? v.ConcatText!
            : throw new HoconException(v.Origin, $"'{Full(HoconPath.Parse(path))}' list element {i} has type {Describe(v)} rather than STRING")).ToArray();
    }

    /// <summary>A list of ints.</summary>
    public IReadOnlyList<int> GetIntList(string path) => ListOf<int>(path, "NUMBER", v => AsNumber(v) is { } n ? (int)n.AsLong : null);
    /// <summary>A list of longs.</summary>
    public IReadOnlyList<long> GetLongList(string path) => ListOf<long>(path, "NUMBER", v => AsNumber(v)?.AsLong);
    /// <summary>A list of doubles.</summary>
    public IReadOnlyList<double> GetDoubleList(string path) => ListOf<double>(path, "NUMBER", v => AsNumber(v)?.AsDouble);
    /// <summary>A list of booleans.</summary>
    public IReadOnlyList<bool> GetBooleanList(string path) => ListOf<bool>(path, "BOOLEAN", AsBoolean);
    /// <summary>A list of durations.</summary>
    public IReadOnlyList<TimeSpan> GetDurationList(string path) =>
        ListOf<TimeSpan>(path, "duration", v => DurationNanos(v, Full(HoconPath.Parse(path))) is { } ns ? TimeSpan.FromTicks(ns / 100) : null);

    /// <summary>A list of objects, each as a config.</summary>
    public IReadOnlyList<Config> GetConfigList(string path)
    {
        var items = GetList(path);
        var keys = HoconPath.Parse(path);
        return items.Select((v, i) => v is HoconObject o ? new Config(o, [.. _prefix, .. keys, i.ToString(CultureInfo.InvariantCulture)])
            : throw new HoconException(v.Origin, $"'{Full(keys)}' list element {i} has type {Describe(v)} rather than OBJECT")).ToArray();
    }

    /// <summary>The object at a path.</summary>
    public HoconObject GetObject(string path)
    {
        var v = GetValue(path);
        return v as HoconObject ?? throw WrongType(path, v, "OBJECT");
    }

    /// <summary>The object at a path as a config (error messages keep the full path).</summary>
    public Config GetConfig(string path) => new(GetObject(path), [.. _prefix, .. HoconPath.Parse(path)]);

    /// <summary>Every leaf (non-object) value with its full path, nulls excluded, as Lightbend's entrySet.</summary>
    public IEnumerable<KeyValuePair<string, HoconValue>> Entries()
    {
        var stack = new Stack<(IReadOnlyList<string> Path, HoconObject Obj)>();
        stack.Push(([], Root));
        while (stack.Count > 0)
        {
            var (p, o) = stack.Pop();
            foreach (var (k, v) in o.Fields)
            {
                string[] path = [.. p, k];
                if (v is HoconObject child) stack.Push((path, child));
                else if (v is not HoconNull) yield return new(HoconPath.Render(path), v);
            }
        }
    }

    /// <summary>Binds this config to a record/class (kebab-case keys to PascalCase members). See <see cref="ConfigBinder"/>.</summary>
    /// <param name="warn">Told about values that bind but are probably not meant (a duration without a unit).</param>
    public T Bind<T>(Action<string>? warn = null) => (T)ConfigBinder.Bind(typeof(T), Root, _prefix, warn)!;

    /// <summary>Keys of this (user) config that <paramref name="reference"/> does not define. See <see cref="KeyValidator"/>.</summary>
    public IReadOnlyList<UnknownKey> FindUnknownKeys(Config reference) => KeyValidator.FindUnknownKeys(Root, reference.Root);

    /// <inheritdoc />
    public override string ToString() => IsResolved ? ToJson() : "Config(unresolved)";
}
