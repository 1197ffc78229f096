namespace CoFUsfl.Hocon;

internal enum IncludeKind { Heuristic, File, Url, Classpath }

/// <summary>
/// Finds and parses included files: relative to the including file, extension-less names probe .conf, .json and
/// .properties (merged in that priority), missing non-required includes are empty, include cycles are errors.
/// </summary>
internal sealed class Includer
{
    private readonly string? _currentFile;
    private readonly IReadOnlyList<string> _stack;

    private Includer(string? currentFile, IReadOnlyList<string> stack)
    {
        _currentFile = currentFile;
        _stack = stack;
    }

    public static Includer ForString() => new(null, []);

    public static Includer ForFile(string path) => new(path, [Path.GetFullPath(path)]);

    /// <summary>Parses a file as a document; the syntax comes from the extension unless given.</summary>
    /// <param name="depth">Nesting around the file's root (an include point's), counted against <see cref="Config.MaxNestingDepth"/>.</param>
    public static HoconObject ParseFile(string path, HoconSyntax? syntax, Includer? parent, HoconOrigin? includedAt, int depth = 0)
    {
        var full = Path.GetFullPath(path);
        var stack = parent?._stack ?? [];
        if (stack.Contains(full, StringComparer.Ordinal))
            throw new HoconException(includedAt ?? HoconOrigin.Synthetic(path),
                $"include cycle: {string.Join(" -> ", stack.Append(full).Select(Path.GetFileName))}");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HoconException(includedAt ?? HoconOrigin.Synthetic(path), $"cannot read '{path}': {e.Message}", e);
        }
        var origin = new HoconOrigin(path, 1, 1);
        var value = Parser.ParseDocument(text, origin, syntax ?? SyntaxFromExtension(path), new Includer(path, [.. stack, full]), depth);
        return value as HoconObject ?? throw new HoconException(origin, "object at file root has type list rather than object (a config file must contain an object)");
    }

    public static HoconSyntax SyntaxFromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".json" => HoconSyntax.Json,
        ".properties" => HoconSyntax.Properties,
        _ => HoconSyntax.Conf,
    };

    public HoconObject Include(IncludeKind kind, string name, bool required, HoconOrigin at, int depth)
    {
        string path;
        switch (kind)
        {
            case IncludeKind.Classpath:
                if (required) throw new HoconException(at, $"include required(classpath(\"{name}\")): there is no classpath in this implementation, so the resource cannot be found");
                return HoconObject.Empty(at);
            case IncludeKind.Url:
                if (!Uri.TryCreate(name, UriKind.Absolute, out var uri))
                    throw new HoconException(at, $"include url() specifies an invalid URL: {name}");
                if (!uri.IsFile)
                {
                    if (required) throw new HoconException(at, $"include required(url(\"{name}\")): only file: URLs can be included");
                    return HoconObject.Empty(at);
                }
                path = uri.LocalPath;
                break;
            case IncludeKind.File:
                // Relative to the including file; if not there, relative to the working directory (Lightbend's file() behaviour).
                path = Relative(name);
                if (!Exists(path) && !Path.IsPathRooted(name) && Exists(name)) path = name;
                break;
            default:
                path = Relative(name);
                break;
        }
        return FromBasename(path, name, required, at, depth);
    }

    private string Relative(string name)
    {
        if (Path.IsPathRooted(name) || _currentFile is null) return name;
        var dir = Path.GetDirectoryName(_currentFile);
        return string.IsNullOrEmpty(dir) ? name : Path.Combine(dir, name);
    }

    private static bool Exists(string path) => File.Exists(path) || File.Exists(path + ".conf") || File.Exists(path + ".json") || File.Exists(path + ".properties");

    private HoconObject FromBasename(string path, string name, bool required, HoconOrigin at, int depth)
    {
        if (path.EndsWith(".conf", StringComparison.Ordinal) || path.EndsWith(".json", StringComparison.Ordinal) || path.EndsWith(".properties", StringComparison.Ordinal))
        {
            if (File.Exists(path)) return ParseFile(path, null, this, at, depth);
            if (required) throw new HoconException(at, $"include required(\"{name}\"): could not find file '{path}'");
            return HoconObject.Empty(at);
        }
        HoconObject? result = null;
        foreach (var (ext, syntax) in new[] { (".conf", HoconSyntax.Conf), (".json", HoconSyntax.Json), (".properties", HoconSyntax.Properties) })
        {
            var candidate = path + ext;
            if (!File.Exists(candidate)) continue;
            var parsed = ParseFile(candidate, syntax, this, at, depth);
            result = result is null ? parsed : (HoconObject)Merge.Values(result, parsed);
        }
        if (result is not null) return result;
        if (required) throw new HoconException(at, $"include required(\"{name}\"): could not find '{path}' (tried {path}.conf, {path}.json, {path}.properties)");
        return HoconObject.Empty(at);
    }
}
