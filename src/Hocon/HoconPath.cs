using System.Text;

namespace CoFUsfl.Hocon;

/// <summary>Path expressions (<c>a.b."c.d"</c>): parsing to key segments and rendering back.</summary>
public static class HoconPath
{
    /// <summary>Splits a path expression into keys, using HOCON's rules (quoted segments keep dots, whitespace between words kept).</summary>
    public static IReadOnlyList<string> Parse(string path, HoconOrigin? origin = null)
    {
        var o = origin ?? HoconOrigin.Synthetic("path");
        var tokens = new Tokenizer(path, o, HoconSyntax.Conf).TokenizeAll();
        var parts = new List<Token>();
        foreach (var t in tokens)
        {
            if (t.Kind == TokenKind.End) break;
            if (t.Kind == TokenKind.Problem) throw new HoconException(t.Origin, t.Text);
            parts.Add(t);
        }
        return FromTokens(parts, o, path);
    }

    internal static string[] FromTokens(IReadOnlyList<Token> tokens, HoconOrigin origin, string? original = null) =>
        FromTokensWithOrigins(tokens, origin, original).Keys;

    /// <summary>Keys of a path expression with the position where each key starts.</summary>
    internal static (string[] Keys, HoconOrigin[] Origins) FromTokensWithOrigins(IReadOnlyList<Token> tokens, HoconOrigin origin, string? original = null)
    {
        var origins = new List<HoconOrigin>();
        HoconOrigin? segmentStart = null;
        // Mirrors Lightbend's PathParser: periods split only outside quoted strings; number tokens split too
        // (their original text is used), so "1.5" as a key is the path [1, 5].
        var result = new List<string>();
        var buf = new StringBuilder();
        var text = original ?? string.Concat(tokens.Select(t => t.Kind == TokenKind.Value && t.Value is HoconString { Quoted: true } ? "\"" + t.Text + "\"" : t.Text));
        if (tokens.Count == 0) throw new HoconException(origin, $"Invalid path '{text}': path is empty");
        bool lastWasQuotedEmpty = false;
        foreach (var t in tokens)
        {
            if (t.Kind == TokenKind.Value && t.Value is HoconString { Quoted: true } qs)
            {
                segmentStart ??= t.Origin;
                buf.Append(qs.Value);
                lastWasQuotedEmpty = qs.Value.Length == 0;
                continue;
            }
            string piece = t.Kind switch
            {
                TokenKind.Value => t.Text,
                TokenKind.Unquoted => t.Text,
                _ => throw new HoconException(t.Origin, $"Token not allowed in path expression: {t.Describe()} (you can double-quote this token if you really want it here)"),
            };
            for (int i = 0; i < piece.Length; i++)
            {
                if (piece[i] == '.')
                {
                    if (buf.Length == 0 && !lastWasQuotedEmpty) throw BadPath(t.Origin with { Column = t.Origin.Column + i }, text);
                    result.Add(buf.ToString());
                    origins.Add(segmentStart ?? t.Origin);
                    segmentStart = null;
                    buf.Clear();
                    lastWasQuotedEmpty = false;
                }
                else
                {
                    segmentStart ??= t.Origin with { Column = t.Origin.Column + i };
                    buf.Append(piece[i]);
                    lastWasQuotedEmpty = false;
                }
            }
        }
        if (buf.Length == 0 && !lastWasQuotedEmpty) throw BadPath(tokens[^1].Origin, text);
        result.Add(buf.ToString());
        origins.Add(segmentStart ?? tokens[^1].Origin);
        return (result.ToArray(), origins.ToArray());
    }

    private static HoconException BadPath(HoconOrigin origin, string text) =>
        new(origin, $"Invalid path '{text}': path has a leading, trailing, or two adjacent period '.' (use quoted \"\" empty string if you want an empty element)");

    /// <summary>Renders keys as a path expression, quoting segments that would not survive re-parsing.</summary>
    public static string Render(IEnumerable<string> keys) => string.Join('.', keys.Select(RenderKey));

    /// <summary>Renders one key, quoted when needed (Lightbend's rule: empty or any char other than a letter, digit, '-' or '_').</summary>
    public static string RenderKey(string key)
    {
        // "include" as a bare key would start an include statement.
        if (key.Length == 0 || key == "include" || key.Any(c => !(char.IsLetterOrDigit(c) || c == '-' || c == '_')))
            return Renderer.JsonString(key);
        return key;
    }
}
