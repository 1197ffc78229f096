using System.Numerics;
using System.Text;

namespace CoFUsfl.Hocon;

/// <summary>Concise JSON (as Lightbend's <c>render(concise())</c>) and re-parsable HOCON output.</summary>
internal static class Renderer
{
    /// <summary>Lightbend's RenderComparator: all-digit keys first in numeric order, then the rest in UTF-16 order.</summary>
    public static readonly Comparer<string> KeyOrder = Comparer<string>.Create(CompareKeys);

    private static int CompareKeys(string a, string b)
    {
        bool ad = IsAllDigits(a), bd = IsAllDigits(b);
        if (ad && bd) return ParseDigits(a).CompareTo(ParseDigits(b));
        if (ad) return -1;
        if (bd) return 1;
        return string.CompareOrdinal(a, b);
    }

    private static bool IsAllDigits(string s) => s.Length > 0 && s.All(char.IsDigit);

    private static BigInteger ParseDigits(string s)
    {
        BigInteger v = BigInteger.Zero;
        foreach (var c in s) v = v * 10 + (int)char.GetNumericValue(c);
        return v;
    }

    public static string JsonString(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        AppendJsonString(sb, s);
        return sb.ToString();
    }

    private static void AppendJsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    // Like Lightbend (ConfigImplUtil.isC0Control): only C0 controls are escaped.
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    public static string Json(HoconValue v)
    {
        var sb = new StringBuilder();
        AppendJson(sb, v);
        return sb.ToString();
    }

    private static void AppendJson(StringBuilder sb, HoconValue v)
    {
        switch (v)
        {
            case HoconObject o:
                sb.Append('{');
                bool first = true;
                foreach (var k in o.Keys.OrderBy(k => k, KeyOrder))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    AppendJsonString(sb, k);
                    sb.Append(':');
                    AppendJson(sb, o[k]!);
                }
                sb.Append('}');
                break;
            case HoconList l:
                sb.Append('[');
                for (int i = 0; i < l.Items.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    AppendJson(sb, l.Items[i]);
                }
                sb.Append(']');
                break;
            case HoconString s: AppendJsonString(sb, s.Value); break;
            case HoconNumber n: sb.Append(n.JavaText); break;
            case HoconBoolean b: sb.Append(b.Value ? "true" : "false"); break;
            case HoconNull: sb.Append("null"); break;
            default: throw new HoconException(v.Origin, "cannot render a value with unresolved substitutions: call Resolve() first");
        }
    }

    /// <summary>HOCON text: the root object without braces, one field per line, keys quoted only when needed.</summary>
    public static string Hocon(HoconValue v)
    {
        var sb = new StringBuilder();
        if (v is HoconObject root)
        {
            foreach (var k in root.Keys.OrderBy(k => k, KeyOrder))
            {
                AppendField(sb, k, root[k]!, 0);
            }
        }
        else
        {
            AppendHocon(sb, v, 0);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static void AppendField(StringBuilder sb, string key, HoconValue value, int indent)
    {
        sb.Append(' ', indent * 4);
        sb.Append(HoconPath.RenderKey(key));
        sb.Append(value is HoconObject ? " " : " = ");
        AppendHocon(sb, value, indent);
        sb.Append('\n');
    }

    private static void AppendHocon(StringBuilder sb, HoconValue v, int indent)
    {
        switch (v)
        {
            case HoconObject o:
                if (o.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }
                sb.Append("{\n");
                foreach (var k in o.Keys.OrderBy(k => k, KeyOrder)) AppendField(sb, k, o[k]!, indent + 1);
                sb.Append(' ', indent * 4).Append('}');
                break;
            case HoconList l:
                if (l.Items.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }
                sb.Append("[\n");
                for (int i = 0; i < l.Items.Count; i++)
                {
                    sb.Append(' ', (indent + 1) * 4);
                    AppendHocon(sb, l.Items[i], indent + 1);
                    if (i < l.Items.Count - 1) sb.Append(',');
                    sb.Append('\n');
                }
                sb.Append(' ', indent * 4).Append(']');
                break;
            case HoconNumber n when n.Kind == NumberKind.Double && !double.IsFinite(n.AsDouble):
                // Infinity/NaN have no HOCON literal; a quoted string is the closest re-parsable form.
                AppendJsonString(sb, n.JavaText);
                break;
            default:
                AppendJson(sb, v);
                break;
        }
    }
}
