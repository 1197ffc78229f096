using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CoFUsfl.Hocon;

/// <summary>The three input syntaxes Lightbend config understands.</summary>
public enum HoconSyntax
{
    /// <summary>HOCON (.conf and anything else).</summary>
    Conf,
    /// <summary>Strict JSON (.json).</summary>
    Json,
    /// <summary>Java properties (.properties).</summary>
    Properties,
}

internal enum TokenKind { Newline, Comma, Colon, Equals, PlusEquals, OpenCurly, CloseCurly, OpenSquare, CloseSquare, Value, Unquoted, Substitution, End, Problem }

internal sealed class Token(TokenKind kind, HoconOrigin origin, string text = "")
{
    public TokenKind Kind { get; } = kind;
    public HoconOrigin Origin { get; } = origin;
    /// <summary>Unquoted text, the string of a quoted string, a number's original text, or a problem's message.</summary>
    public string Text { get; } = text;
    public HoconValue? Value { get; init; }
    public bool Optional { get; init; }
    public IReadOnlyList<Token> Expression { get; init; } = [];

    public bool IsSimpleValue => Kind is TokenKind.Value or TokenKind.Unquoted or TokenKind.Substitution;
    public bool IsUnquotedWhitespace => Kind == TokenKind.Unquoted && Text.All(Tokenizer.IsWhitespace);

    /// <summary>How Lightbend names a token in error messages.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.Newline => "newline",
        TokenKind.Comma => "','",
        TokenKind.Colon => "':'",
        TokenKind.Equals => "'='",
        TokenKind.PlusEquals => "'+='",
        TokenKind.OpenCurly => "'{'",
        TokenKind.CloseCurly => "'}'",
        TokenKind.OpenSquare => "'['",
        TokenKind.CloseSquare => "']'",
        TokenKind.Value when Value is HoconString => "quoted string \"" + Text + "\"",
        TokenKind.Value => "'" + Text + "'",
        TokenKind.Unquoted => "'" + Text + "'",
        TokenKind.Substitution => "'${" + (Optional ? "?" : "") + "...}'",
        TokenKind.End => "end of file",
        _ => Text,
    };
}

/// <summary>Lightbend's tokenizer rules: whitespace between two simple values is kept as unquoted text so concatenations keep it.</summary>
internal sealed partial class Tokenizer(string input, HoconOrigin baseOrigin, HoconSyntax syntax, int firstLineColumnOffset = 0)
{
    private const string FirstNumberChars = "0123456789-";
    private const string NumberChars = "0123456789eE+-.";
    private const string NotInUnquotedText = "$\"{}[]:=,+#`^?!@*&\\";

    private readonly bool _allowComments = syntax != HoconSyntax.Json;
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    private sealed class WhitespaceSaver
    {
        private readonly StringBuilder _ws = new();
        private bool _lastWasSimple;
        private HoconOrigin? _wsOrigin;

        public void Add(char c, HoconOrigin at)
        {
            if (!_lastWasSimple) return;
            if (_ws.Length == 0) _wsOrigin = at;
            _ws.Append(c);
        }

        public Token? Check(Token t)
        {
            if (!t.IsSimpleValue)
            {
                _lastWasSimple = false;
                _ws.Clear();
                return null;
            }
            if (!_lastWasSimple)
            {
                _lastWasSimple = true;
                _ws.Clear();
                return null;
            }
            if (_ws.Length == 0) return null;
            var w = new Token(TokenKind.Unquoted, _wsOrigin!, _ws.ToString());
            _ws.Clear();
            return w;
        }
    }

    /// <summary>Java's Character.isWhitespace plus the non-breaking spaces and the BOM, as Lightbend's ConfigImplUtil.</summary>
    public static bool IsWhitespace(char c)
    {
        switch (c)
        {
            case ' ' or '\n' or '\t' or '\u000B' or '\f' or '\r' or '\u001C' or '\u001D' or '\u001E' or '\u001F':
            case '\u00A0' or '\u2007' or '\u202F' or '\uFEFF':
                return true;
            default:
                if (c < 128) return false;
                var cat = CharUnicodeInfo.GetUnicodeCategory(c);
                return cat is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
        }
    }

    // The offset lets a value cut out of a longer text (-D path=value) report columns within that text.
    private HoconOrigin Here => new(baseOrigin.Description, _line, _pos - _lineStart + 1 + (_line == 1 ? firstLineColumnOffset : 0));

    private int Peek(int ahead = 0) => _pos + ahead < input.Length ? input[_pos + ahead] : -1;

    private sealed class ProblemException(Token problem) : Exception
    {
        public Token Problem { get; } = problem;
    }

    private ProblemException Problem(HoconOrigin at, string message) => new(new Token(TokenKind.Problem, at, message));

    /// <summary>All tokens, ending with End, or with a Problem token where tokenizing failed (the parser reports it when it gets there).</summary>
    public List<Token> TokenizeAll()
    {
        var tokens = new List<Token>();
        var saver = new WhitespaceSaver();
        try
        {
            while (true)
            {
                var t = Next(saver);
                var ws = saver.Check(t);
                if (ws is not null) tokens.Add(ws);
                tokens.Add(t);
                if (t.Kind == TokenKind.End) break;
            }
        }
        catch (ProblemException p)
        {
            tokens.Add(p.Problem);
        }
        return tokens;
    }

    private bool StartOfComment(int c) =>
        _allowComments && (c == '#' || (c == '/' && Peek(1) == '/'));

    private Token Next(WhitespaceSaver saver)
    {
        while (true)
        {
            int c = Peek();
            if (c == -1) return new Token(TokenKind.End, Here);
            if (c == '\n')
            {
                var nl = new Token(TokenKind.Newline, Here);
                _pos++;
                _line++;
                _lineStart = _pos;
                return nl;
            }
            if (IsWhitespace((char)c))
            {
                saver.Add((char)c, Here);
                _pos++;
                continue;
            }
            if (StartOfComment(c))
            {
                while (_pos < input.Length && input[_pos] != '\n') _pos++;
                // A comment is not a simple value: whitespace saved before it is dropped.
                saver.Check(new Token(TokenKind.Newline, Here));
                continue;
            }
            var origin = Here;
            switch (c)
            {
                case '"': _pos++; return PullQuotedString(origin);
                case '$': _pos++; return PullSubstitution(origin);
                case ':': _pos++; return new Token(TokenKind.Colon, origin, ":");
                case ',': _pos++; return new Token(TokenKind.Comma, origin, ",");
                case '=': _pos++; return new Token(TokenKind.Equals, origin, "=");
                case '{': _pos++; return new Token(TokenKind.OpenCurly, origin, "{");
                case '}': _pos++; return new Token(TokenKind.CloseCurly, origin, "}");
                case '[': _pos++; return new Token(TokenKind.OpenSquare, origin, "[");
                case ']': _pos++; return new Token(TokenKind.CloseSquare, origin, "]");
                case '+':
                    if (Peek(1) == '=')
                    {
                        _pos += 2;
                        return new Token(TokenKind.PlusEquals, origin, "+=");
                    }
                    _pos++;
                    throw Problem(origin, $"'+' not followed by =, '{AsString(Peek())}' not allowed after '+' (if you intended '+' to be part of a key or string value, try enclosing the key or value in double quotes)");
            }
            if (FirstNumberChars.IndexOf((char)c) >= 0) return PullNumber(origin);
            if (NotInUnquotedText.IndexOf((char)c) >= 0)
                throw Problem(origin, $"Reserved character '{AsString(c)}' is not allowed outside quotes (if you intended '{AsString(c)}' to be part of a key or string value, try enclosing the key or value in double quotes)");
            return PullUnquoted(origin);
        }
    }

    private static string AsString(int c) => c switch
    {
        -1 => "end of file",
        '\n' => "newline",
        '\t' => "tab",
        _ when c < 0x20 || (c >= 0x7F && c <= 0x9F) => $"control character 0x{c:x}",
        _ => ((char)c).ToString(),
    };

    private Token PullUnquoted(HoconOrigin origin)
    {
        var start = _pos;
        while (_pos < input.Length)
        {
            char c = input[_pos];
            if (NotInUnquotedText.IndexOf(c) >= 0 || IsWhitespace(c) || StartOfComment(c)) break;
            _pos++;
            // true/false/null are recognised at the start of unquoted text whatever follows them ("truex" = true + "x").
            var len = _pos - start;
            if (len == 4)
            {
                var s = input.AsSpan(start, 4);
                if (s.SequenceEqual("true")) return new Token(TokenKind.Value, origin, "true") { Value = new HoconBoolean(origin, true) };
                if (s.SequenceEqual("null")) return new Token(TokenKind.Value, origin, "null") { Value = new HoconNull(origin) };
            }
            else if (len == 5 && input.AsSpan(start, 5).SequenceEqual("false"))
                return new Token(TokenKind.Value, origin, "false") { Value = new HoconBoolean(origin, false) };
        }
        return new Token(TokenKind.Unquoted, origin, input[start.._pos]);
    }

    [GeneratedRegex(@"^[+-]?[0-9]+$")]
    private static partial Regex JavaLong();
    [GeneratedRegex(@"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")]
    private static partial Regex JavaDoubleSyntax();

    private Token PullNumber(HoconOrigin origin)
    {
        var start = _pos;
        _pos++;
        bool decimalOrE = false;
        while (_pos < input.Length && NumberChars.IndexOf(input[_pos]) >= 0)
        {
            if (input[_pos] is '.' or 'e' or 'E') decimalOrE = true;
            _pos++;
        }
        var s = input[start.._pos];
        if (decimalOrE)
        {
            if (JavaDoubleSyntax().IsMatch(s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                return new Token(TokenKind.Value, origin, s) { Value = HoconNumber.FromParsedDouble(origin, d, s) };
        }
        else if (JavaLong().IsMatch(s) && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return new Token(TokenKind.Value, origin, s) { Value = HoconNumber.FromLong(origin, l, s) };
        // Not a number after all (e.g. 1.2.3 or 2024-01-01 or too large for a long): unquoted text, unless it holds a reserved char.
        foreach (var u in s)
            if (NotInUnquotedText.IndexOf(u) >= 0)
                throw Problem(origin, $"Reserved character '{AsString(u)}' is not allowed outside quotes (if you intended '{AsString(u)}' to be part of a key or string value, try enclosing the key or value in double quotes)");
        return new Token(TokenKind.Unquoted, origin, s);
    }

    private Token PullQuotedString(HoconOrigin origin)
    {
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= input.Length) throw Problem(Here, "End of input but string quote was still open");
            char c = input[_pos];
            if (c == '\\')
            {
                var escOrigin = Here;
                _pos++;
                PullEscape(sb, escOrigin);
            }
            else if (c == '"')
            {
                _pos++;
                break;
            }
            else if (c < 0x20)
                throw Problem(Here, $"JSON does not allow unescaped {AsString(c)} in quoted strings, use a backslash escape");
            else
            {
                sb.Append(c);
                _pos++;
            }
        }
        if (sb.Length == 0 && Peek() == '"')
        {
            // Two quotes then a third: a triple-quoted string (raw, may span lines; extra closing quotes belong to the string).
            _pos++;
            return PullTripleQuoted(origin);
        }
        var str = sb.ToString();
        return new Token(TokenKind.Value, origin, str) { Value = new HoconString(origin, str) };
    }

    private Token PullTripleQuoted(HoconOrigin origin)
    {
        var sb = new StringBuilder();
        int quotes = 0;
        while (true)
        {
            int c = Peek();
            if (c == '"')
                quotes++;
            else if (quotes >= 3)
            {
                sb.Length -= 3;
                break;
            }
            else
            {
                quotes = 0;
                if (c == -1) throw Problem(Here, "End of input but triple-quoted string was still open");
                if (c == '\n')
                {
                    sb.Append('\n');
                    _pos++;
                    _line++;
                    _lineStart = _pos;
                    continue;
                }
            }
            sb.Append((char)c);
            _pos++;
        }
        var str = sb.ToString();
        return new Token(TokenKind.Value, origin, str) { Value = new HoconString(origin, str) };
    }

    private void PullEscape(StringBuilder sb, HoconOrigin at)
    {
        if (_pos >= input.Length) throw Problem(at, "End of input but backslash in string had nothing after it");
        char e = input[_pos++];
        switch (e)
        {
            case '"': sb.Append('"'); break;
            case '\\': sb.Append('\\'); break;
            case '/': sb.Append('/'); break;
            case 'b': sb.Append('\b'); break;
            case 'f': sb.Append('\f'); break;
            case 'n': sb.Append('\n'); break;
            case 'r': sb.Append('\r'); break;
            case 't': sb.Append('\t'); break;
            case 'u':
                if (_pos + 4 > input.Length) throw Problem(at, "End of input but expecting 4 hex digits for \\uXXXX escape");
                var digits = input.Substring(_pos, 4);
                if (!digits.All(char.IsAsciiHexDigit))
                    throw Problem(at, $"Malformed hex digits after \\u escape in string: '{digits}'");
                sb.Append((char)int.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                _pos += 4;
                break;
            default:
                throw Problem(at, $"backslash followed by '{AsString(e)}', this is not a valid escape sequence (quoted strings use JSON escaping, so use double-backslash \\\\ for literal backslash)");
        }
    }

    private Token PullSubstitution(HoconOrigin origin)
    {
        if (Peek() != '{')
            throw Problem(Here, $"'$' not followed by {{, '{AsString(Peek())}' not allowed after '$' (if you intended '$' to be part of a key or string value, try enclosing the key or value in double quotes)");
        _pos++;
        bool optional = false;
        if (Peek() == '?')
        {
            optional = true;
            _pos++;
        }
        var saver = new WhitespaceSaver();
        var expr = new List<Token>();
        while (true)
        {
            var t = Next(saver);
            if (t.Kind == TokenKind.CloseCurly) break;
            if (t.Kind == TokenKind.End) throw Problem(origin, "Substitution ${ was not closed with a }");
            var ws = saver.Check(t);
            if (ws is not null) expr.Add(ws);
            expr.Add(t);
        }
        return new Token(TokenKind.Substitution, origin, "") { Optional = optional, Expression = expr };
    }
}
