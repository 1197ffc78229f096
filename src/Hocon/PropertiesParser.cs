using System.Globalization;
using System.Text;

namespace CoFUsfl.Hocon;

/// <summary>Java .properties files (java.util.Properties rules); keys split on '.' into nested objects, values are strings.</summary>
internal static class PropertiesParser
{
    public static HoconObject Parse(string text, string description, int depth = 0)
    {
        var entries = new List<(string Key, string Value, int Line)>();
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int startLine = i + 1;
            var line = lines[i].TrimStart(' ', '\t', '\f');
            if (line.Length == 0 || line[0] is '#' or '!') continue;
            // Logical line: an odd number of trailing backslashes continues on the next line (leading whitespace dropped).
            while (TrailingBackslashes(line) % 2 == 1 && i + 1 < lines.Length)
                line = line[..^1] + lines[++i].TrimStart(' ', '\t', '\f');
            if (TrailingBackslashes(line) % 2 == 1) line = line[..^1];
            int k = 0;
            var key = new StringBuilder();
            while (k < line.Length && line[k] is not ('=' or ':' or ' ' or '\t' or '\f'))
            {
                if (line[k] == '\\' && k + 1 < line.Length) k = Unescape(line, k, key);
                else key.Append(line[k++]);
            }
            while (k < line.Length && line[k] is ' ' or '\t' or '\f') k++;
            if (k < line.Length && line[k] is '=' or ':') k++;
            while (k < line.Length && line[k] is ' ' or '\t' or '\f') k++;
            var value = new StringBuilder();
            while (k < line.Length)
            {
                if (line[k] == '\\' && k + 1 < line.Length) k = Unescape(line, k, value);
                else value.Append(line[k++]);
            }
            entries.Add((key.ToString(), value.ToString(), startLine));
        }

        // A key that is both a value and a parent of other keys keeps the object (Lightbend drops the scalar).
        var root = new Node();
        foreach (var (key, value, line) in entries)
        {
            var path = key.Split('.');
            if (depth + 1 + path.Length - 1 > Config.MaxNestingDepth) throw Parser.TooDeep(new HoconOrigin(description, line, 1));
            var node = root;
            foreach (var part in path)
            {
                node.Children ??= new Dictionary<string, Node>(StringComparer.Ordinal);
                if (!node.Children.TryGetValue(part, out var child)) node.Children[part] = child = new Node { Order = node.Children.Count };
                node = child;
            }
            node.Value = new HoconString(new HoconOrigin(description, line, 1), value);
        }
        return (HoconObject)Build(root, new HoconOrigin(description, 1, 1));
    }

    private sealed class Node
    {
        public Dictionary<string, Node>? Children;
        public HoconString? Value;
        public int Order;
    }

    private static HoconValue Build(Node node, HoconOrigin origin)
    {
        if (node.Children is null) return node.Value!;
        return new HoconObject(origin, node.Children.OrderBy(c => c.Value.Order)
            .Select(c => new KeyValuePair<string, HoconValue>(c.Key, Build(c.Value, c.Value.Value?.Origin ?? origin))));
    }

    private static int TrailingBackslashes(string s)
    {
        int n = 0;
        for (int i = s.Length - 1; i >= 0 && s[i] == '\\'; i--) n++;
        return n;
    }

    private static int Unescape(string s, int k, StringBuilder sb)
    {
        char c = s[k + 1];
        switch (c)
        {
            case 't': sb.Append('\t'); return k + 2;
            case 'n': sb.Append('\n'); return k + 2;
            case 'r': sb.Append('\r'); return k + 2;
            case 'f': sb.Append('\f'); return k + 2;
            case 'u' when k + 6 <= s.Length && s.AsSpan(k + 2, 4).ToString().All(char.IsAsciiHexDigit):
                sb.Append((char)int.Parse(s.AsSpan(k + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                return k + 6;
            default: sb.Append(c); return k + 2;
        }
    }
}
