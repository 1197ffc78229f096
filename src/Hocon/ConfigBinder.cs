using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace CoFUsfl.Hocon;

/// <summary>
/// Binds config objects to C# records and classes: kebab-case keys (<c>local-steps</c>) map to PascalCase constructor
/// parameters or settable properties (<c>LocalSteps</c>). Supports numbers, bool, string, TimeSpan (durations), enums
/// (kebab-case or exact name), arrays, lists, dictionaries with string keys, nested records, Nullable, and raw
/// <see cref="HoconValue"/>/<see cref="Config"/>. A missing required value or a wrong type is a
/// <see cref="HoconException"/> naming the full path and origin.
/// <para>Inside a list, an object's keys must be members of its type (an unknown key is an error with the nearest
/// member): a list replaces the reference config's list whole, so the reference cannot check its elements' keys
/// (<see cref="KeyValidator"/> checks everything else), and the element type is the only schema they have.</para>
/// <para>A duration given as a bare number is read as milliseconds (HOCON's rule); <c>warn</c> is told about each
/// non-zero one, since <c>deadline = 30</c> usually means seconds.</para>
/// </summary>
public static class ConfigBinder
{
    private static readonly NullabilityInfoContext Nullability = new();

    /// <summary>Binds <paramref name="value"/> to <paramref name="type"/>; <paramref name="path"/> is used in error messages.</summary>
    /// <param name="warn">Told about values that bind but are probably not meant (a duration without a unit); null = not told.</param>
    public static object? Bind(Type type, HoconValue value, IReadOnlyList<string> path, Action<string>? warn = null) =>
        Bind(type, value, path, new Context(false, warn));

    /// <param name="InList">Below a list element: unknown keys are errors.</param>
    private sealed record Context(bool InList, Action<string>? Warn);

    private static object? Bind(Type type, HoconValue value, IReadOnlyList<string> path, Context cx)
    {
        if (!value.IsResolved) throw new HoconException(value.Origin, $"'{Render(path)}' has unresolved substitutions: call Resolve() first");
        var underlying = Nullable.GetUnderlyingType(type);
        if (value is HoconNull)
        {
            if (underlying is not null || !type.IsValueType) return null;
            throw Error(value, path, $"is null but {type.Name} cannot be null");
        }
        if (underlying is not null) type = underlying;

        if (typeof(HoconValue).IsAssignableFrom(type))
            return type.IsInstanceOfType(value) ? value : throw Error(value, path, $"has type {value.Type} rather than {type.Name}");
        if (type == typeof(Config))
            return value is HoconObject co ? new Config(co) : throw Error(value, path, $"has type {value.Type} rather than OBJECT");
        if (type == typeof(string))
            return value is HoconString or HoconNumber or HoconBoolean ? value.ConcatText : throw Error(value, path, $"has type {value.Type} rather than STRING");
        if (type == typeof(bool))
            return Config.AsBoolean(value) ?? throw Error(value, path, $"has type {value.Type} rather than BOOLEAN");
        if (type == typeof(TimeSpan))
            return Config.DurationNanos(value, Render(path), cx.Warn) is { } ns ? TimeSpan.FromTicks(ns / 100) : throw Error(value, path, $"has type {value.Type} rather than a duration");
        if (type.IsEnum) return BindEnum(type, value, path);
        if (IsNumeric(type))
        {
            var n = Config.AsNumber(value) ?? throw Error(value, path, $"has type {value.Type} rather than NUMBER");
            try
            {
                if (type == typeof(double)) return n.AsDouble;
                if (type == typeof(float)) return (float)n.AsDouble;
                if (type == typeof(decimal)) return (decimal)n.AsDouble;
                if (!n.IsIntegral && n.AsDouble != Math.Truncate(n.AsDouble))
                    throw Error(value, path, $"has a fractional value {n.JavaText} but {type.Name} is an integer type");
                return Convert.ChangeType(n.AsLong, type, CultureInfo.InvariantCulture);
            }
            catch (OverflowException)
            {
                throw Error(value, path, $"value {n.JavaText} is out of range for {type.Name}");
            }
        }
        if (type.IsArray)
        {
            var element = type.GetElementType()!;
            var items = ListItems(value, path);
            var array = Array.CreateInstance(element, items.Count);
            for (int i = 0; i < items.Count; i++) array.SetValue(Bind(element, items[i], [.. path, i.ToString(CultureInfo.InvariantCulture)], cx with { InList = true }), i);
            return array;
        }
        if (type.IsGenericType)
        {
            var def = type.GetGenericTypeDefinition();
            var args = type.GetGenericArguments();
            if (def == typeof(List<>) || def == typeof(IList<>) || def == typeof(IReadOnlyList<>) || def == typeof(IEnumerable<>)
                || def == typeof(ICollection<>) || def == typeof(IReadOnlyCollection<>))
            {
                var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(args[0]))!;
                var items = ListItems(value, path);
                for (int i = 0; i < items.Count; i++) list.Add(Bind(args[0], items[i], [.. path, i.ToString(CultureInfo.InvariantCulture)], cx with { InList = true }));
                return list;
            }
            if ((def == typeof(Dictionary<,>) || def == typeof(IDictionary<,>) || def == typeof(IReadOnlyDictionary<,>)) && args[0] == typeof(string))
            {
                if (value is not HoconObject o) throw Error(value, path, $"has type {value.Type} rather than OBJECT");
                var dict = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(args))!;
                foreach (var (k, v) in o.Fields) dict[k] = Bind(args[1], v, [.. path, k], cx);
                return dict;
            }
        }
        if (value is not HoconObject obj) throw Error(value, path, $"has type {value.Type} rather than OBJECT (for {type.Name})");
        return BindObject(type, obj, path, cx);
    }

    private static bool IsNumeric(Type t) =>
        t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(float) || t == typeof(decimal)
        || t == typeof(short) || t == typeof(byte) || t == typeof(uint) || t == typeof(ulong) || t == typeof(ushort) || t == typeof(sbyte);

    private static IReadOnlyList<HoconValue> ListItems(HoconValue value, IReadOnlyList<string> path) => value switch
    {
        HoconList l => l.Items,
        HoconObject o when Lists.FromNumericKeys(o) is { } l => l.Items,
        _ => throw Error(value, path, $"has type {value.Type} rather than LIST"),
    };

    private static object BindEnum(Type type, HoconValue value, IReadOnlyList<string> path)
    {
        if (value is not HoconString s) throw Error(value, path, $"has type {value.Type} rather than STRING (one of {EnumNames(type)})");
        foreach (var name in Enum.GetNames(type))
            if (name == s.Value || Kebab(name) == s.Value || Normalize(name) == Normalize(s.Value))
                return Enum.Parse(type, name);
        throw Error(value, path, $"'{s.Value}' is not one of {EnumNames(type)}");
    }

    private static string EnumNames(Type type) => string.Join(", ", Enum.GetNames(type).Select(Kebab));

    private static object BindObject(Type type, HoconObject obj, IReadOnlyList<string> path, Context cx)
    {
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        if (ctor is null && !type.IsValueType) throw Error(obj, path, $"cannot be bound: {type.Name} has no public constructor");
        if (cx.InList) RejectUnknownKeys(type, ctor, obj, path);
        var covered = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        object instance;
        if (ctor is null) instance = Activator.CreateInstance(type)!;
        else
        {
            var parameters = ctor.GetParameters();
            var args = new object?[parameters.Length];
            for (int i = 0; i < parameters.Length; i++)
            {
                var p = parameters[i];
                covered.Add(p.Name!);
                if (TryFind(obj, p.Name!, out var key, out var v)) args[i] = Bind(p.ParameterType, v, [.. path, key], cx);
                else if (p.HasDefaultValue) args[i] = p.DefaultValue;
                else if (IsNullable(p.ParameterType, Nullability.Create(p))) args[i] = null;
                else throw Error(obj, path, $"is missing required setting '{Render([.. path, Kebab(p.Name!)])}' (for {type.Name}.{Pascal(p.Name!)})", prefixPath: false);
            }
            instance = ctor.Invoke(args);
        }
        foreach (var prop in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (covered.Contains(prop.Name) || prop.SetMethod is not { IsPublic: true } || prop.GetIndexParameters().Length > 0) continue;
            if (TryFind(obj, prop.Name, out var key, out var v)) prop.SetValue(instance, Bind(prop.PropertyType, v, [.. path, key], cx));
            else if (prop.GetCustomAttributes().Any(a => a.GetType().Name == "RequiredMemberAttribute"))
                throw Error(obj, path, $"is missing required setting '{Render([.. path, Kebab(prop.Name)])}' (for {type.Name}.{prop.Name})", prefixPath: false);
        }
        return instance;
    }

    /// <summary>The first key of <paramref name="obj"/> that no member of <paramref name="type"/> binds, as an error with the nearest member.</summary>
    private static void RejectUnknownKeys(Type type, ConstructorInfo? ctor, HoconObject obj, IReadOnlyList<string> path)
    {
        var members = (ctor?.GetParameters().Select(p => p.Name!) ?? [])
            .Concat(type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0).Select(p => p.Name))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var known = members.Select(Normalize).ToHashSet(StringComparer.Ordinal);
        foreach (var (k, _) in obj.Fields)
        {
            if (known.Contains(Normalize(k))) continue;
            var unknown = new UnknownKey(Render([.. path, k]), obj.KeyOrigin(k), KeyValidator.Nearest(Render([.. path, k]), members.Select(m => Render([.. path, Kebab(m)]))));
            throw new HoconException(unknown.Origin, unknown.Message);
        }
    }

    private static bool IsNullable(Type t, NullabilityInfo info) =>
        Nullable.GetUnderlyingType(t) is not null || (!t.IsValueType && info.WriteState == NullabilityState.Nullable);

    private static bool TryFind(HoconObject obj, string memberName, out string key, out HoconValue value)
    {
        var kebab = Kebab(memberName);
        foreach (var candidate in new[] { kebab, memberName })
            if (obj.TryGetValue(candidate, out value!))
            {
                key = candidate;
                return true;
            }
        var normalized = Normalize(memberName);
        foreach (var (k, v) in obj.Fields)
            if (Normalize(k) == normalized)
            {
                key = k;
                value = v;
                return true;
            }
        key = kebab;
        value = null!;
        return false;
    }

    private static string Normalize(string s) => new(s.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());

    private static string Pascal(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    /// <summary>PascalCase or camelCase to kebab-case (<c>LocalSteps</c> → <c>local-steps</c>, <c>HTTPPort</c> → <c>http-port</c>).</summary>
    public static string Kebab(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool prevLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                bool acronymEnd = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (prevLowerOrDigit || acronymEnd) sb.Append('-');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c == '_' ? '-' : c);
        }
        return sb.ToString();
    }

    private static string Render(IEnumerable<string> path) => HoconPath.Render(path);

    private static HoconException Error(HoconValue at, IReadOnlyList<string> path, string message, bool prefixPath = true) =>
        new(at.Origin, prefixPath ? $"'{Render(path)}' {message}" : $"'{Render(path)}' {message}");
}
