namespace CoFUsfl.Hocon;

/// <summary>
/// Recursive-descent parser over the token list, following Lightbend's ConfigDocumentParser + ConfigParser:
/// duplicate keys merge at parse time, <c>a.b = 1</c> expands to nested objects, <c>+=</c> becomes <c>${?a} [v]</c>,
/// includes are parsed, relativized to the include point and merged in place.
/// </summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private int _index;
    private readonly Stack<Token> _buffer = new();
    private readonly HoconSyntax _syntax;
    private readonly Includer _includer;
    private readonly List<string[]> _pathStack = [];
    private int _arrayCount;
    private int _equalsCount;
    // Objects, lists and key path segments around the current value (an included file starts at its include point's depth).
    private int _depth;

    private Parser(List<Token> tokens, HoconSyntax syntax, Includer includer, int depth = 0)
    {
        _tokens = tokens;
        _syntax = syntax;
        _includer = includer;
        _depth = depth;
    }

    private bool Json => _syntax == HoconSyntax.Json;

    /// <summary>Parses a whole document (object or, in JSON, possibly a list) into an unresolved value.</summary>
    /// <param name="depth">Nesting around the document (an included file: its include point's), counted against <see cref="Config.MaxNestingDepth"/>.</param>
    public static HoconValue ParseDocument(string text, HoconOrigin origin, HoconSyntax syntax, Includer includer, int depth = 0)
    {
        if (syntax == HoconSyntax.Properties) return PropertiesParser.Parse(text, origin.Description, depth);
        var tokens = new Tokenizer(text, origin, syntax).TokenizeAll();
        return new Parser(tokens, syntax, includer, depth).ParseRoot(origin);
    }

    /// <summary>Parses a single value (a concatenation is allowed), as in <c>-D path=value</c>.</summary>
    public static HoconValue ParseSingleValue(string text, HoconOrigin origin, Includer includer, int columnOffset = 0)
    {
        var tokens = new Tokenizer(text, origin, HoconSyntax.Conf, columnOffset).TokenizeAll();
        var p = new Parser(tokens, HoconSyntax.Conf, includer);
        var v = p.ConsolidateValues() ?? p.ParseValue(p.NextSkippingWhitespace());
        var t = p.NextSkippingWhitespace();
        if (t.Kind != TokenKind.End) throw new HoconException(t.Origin, $"Expecting end of value, got {t.Describe()}");
        return v;
    }

    private Token NextToken()
    {
        var t = _buffer.Count > 0 ? _buffer.Pop() : _tokens[Math.Min(_index++, _tokens.Count - 1)];
        if (t.Kind == TokenKind.Problem) throw new HoconException(t.Origin, t.Text);
        if (Json)
        {
            if (t.Kind == TokenKind.Unquoted && !t.IsUnquotedWhitespace)
                throw new HoconException(t.Origin, $"Token not allowed in valid JSON: '{t.Text}'");
            if (t.Kind == TokenKind.Substitution)
                throw new HoconException(t.Origin, "Substitutions (${} syntax) not allowed in JSON");
        }
        return t;
    }

    private void PutBack(Token t) => _buffer.Push(t);

    private Token NextSkippingWhitespace()
    {
        while (true)
        {
            var t = NextToken();
            if (t.Kind == TokenKind.Newline || t.IsUnquotedWhitespace) continue;
            return t;
        }
    }

    private static bool StartsValue(Token t) =>
        t.Kind is TokenKind.Value or TokenKind.Unquoted or TokenKind.Substitution or TokenKind.OpenCurly or TokenKind.OpenSquare;

    private HoconException Error(Token at, string message) => new(at.Origin, message);

    /// <summary>
    /// Goes <paramref name="levels"/> deeper; past <see cref="Config.MaxNestingDepth"/> that is an error at <paramref name="at"/>
    /// (this parser recurses per level, so unbounded input depth would overflow the stack).
    /// </summary>
    private void Enter(HoconOrigin at, int levels = 1)
    {
        _depth += levels;
        if (_depth > Config.MaxNestingDepth) throw TooDeep(at);
    }

    internal static HoconException TooDeep(HoconOrigin at) =>
        new(at, $"nested deeper than {Config.MaxNestingDepth} levels (objects, lists and key path segments together); flatten the configuration");

    private string QuoteSuggestion(Token bad, string message, string[]? lastPath = null, bool? insideEquals = null)
    {
        var eq = insideEquals ?? _equalsCount > 0;
        string part;
        if (bad.Kind == TokenKind.End)
        {
            if (lastPath is null) return message;
            part = $"{message} (if you intended '{HoconPath.Render(lastPath)}' to be part of a value, instead of a key, try adding double quotes around the whole value";
        }
        else if (lastPath is not null)
            part = $"{message} (if you intended {bad.Describe()} to be part of the value for '{HoconPath.Render(lastPath)}', try enclosing the value in double quotes";
        else
            part = $"{message} (if you intended {bad.Describe()} to be part of a key or string value, try enclosing the key or value in double quotes";
        return eq ? part + ", or you may be able to rename the file .properties rather than .conf)" : part + ")";
    }

    private HoconValue ParseRoot(HoconOrigin origin)
    {
        var t = NextSkippingWhitespace();
        HoconValue result;
        if (t.Kind is TokenKind.OpenCurly or TokenKind.OpenSquare)
            result = ParseValue(t);
        else if (Json)
            throw t.Kind == TokenKind.End
                ? Error(t, "Empty document")
                : Error(t, $"Document must have an object or array at root, unexpected token: {t.Describe()}");
        else
        {
            PutBack(t);
            result = ParseObject(null, new HoconOrigin(origin.Description, 1, 1));
        }
        t = NextSkippingWhitespace();
        if (t.Kind != TokenKind.End)
            throw Error(t, $"Document has trailing tokens after first object or array: {t.Describe()}");
        return result;
    }

    private HoconValue ParseValue(Token t)
    {
        switch (t.Kind)
        {
            case TokenKind.Value: return t.Value!;
            case TokenKind.Unquoted: return new HoconString(t.Origin, t.Text, quoted: false);
            case TokenKind.Substitution:
                var path = HoconPath.FromTokens(t.Expression, t.Origin, SubstitutionText(t));
                if (path.Length > Config.MaxNestingDepth) throw TooDeep(t.Origin);
                return new Substitution(t.Origin, path, t.Optional);
            case TokenKind.OpenCurly: return ParseObject(t, t.Origin);
            case TokenKind.OpenSquare: return ParseArray(t);
            default: throw Error(t, QuoteSuggestion(t, $"Expecting a value but got wrong token: {t.Describe()}"));
        }
    }

    private static string SubstitutionText(Token t) =>
        string.Concat(t.Expression.Select(e => e.Kind == TokenKind.Value && e.Value is HoconString ? "\"" + e.Text + "\"" : e.Text));

    /// <summary>Values side by side on one line: a concatenation, or the single value, or null when there is none (never in JSON).</summary>
    private HoconValue? ConsolidateValues()
    {
        if (Json) return null;
        var values = new List<HoconValue>();
        var t = NextSkippingWhitespace();
        while (StartsValue(t))
        {
            values.Add(ParseValue(t));
            t = NextToken(); // a concatenation never crosses a newline
        }
        PutBack(t);
        if (values.Count == 0) return null;
        if (values.Count == 1) return values[0];
        return Concat.Concatenate(values);
    }

    private HoconObject ParseObject(Token? open, HoconOrigin origin)
    {
        Enter(origin);
        bool hadOpenCurly = open is not null;
        // Every definition of a key, oldest first; merged once at the end (Merge.All) instead of on each duplicate.
        var values = new Dictionary<string, List<HoconValue>>(StringComparer.Ordinal);
        var order = new List<string>();
        bool afterComma = false;
        string[]? lastPath = null;
        bool lastInsideEquals = false;

        var keyOrigins = new Dictionary<string, HoconOrigin>(StringComparer.Ordinal);

        void Put(string key, HoconValue v)
        {
            if (!values.TryGetValue(key, out var list))
            {
                values[key] = list = [];
                order.Add(key);
            }
            list.Add(v);
        }

        while (true)
        {
            var t = NextSkippingWhitespace();
            if (t.Kind == TokenKind.CloseCurly)
            {
                if (Json && afterComma)
                    throw Error(t, QuoteSuggestion(t, "expecting a field name after a comma, got a close brace } instead"));
                if (!hadOpenCurly) throw Error(t, QuoteSuggestion(t, "unbalanced close brace '}' with no open brace"));
                break;
            }
            if (t.Kind == TokenKind.End)
            {
                if (!hadOpenCurly)
                {
                    PutBack(t);
                    break;
                }
                throw Error(t, $"unclosed brace: expecting close brace '}}' for the '{{' opened at line {open!.Origin.Line} column {open.Origin.Column}, got end of file");
            }
            if (!Json && t.Kind == TokenKind.Unquoted && t.Text == "include")
            {
                ParseInclude(t, values, order);
                afterComma = false;
            }
            else
            {
                var (path, pathOrigins) = ParseKey(t);
                var afterKey = NextSkippingWhitespace();
                bool insideEquals = false;
                HoconValue value;
                _pathStack.Add(path);
                Enter(pathOrigins[^1], path.Length - 1); // a.b.c = v nests v in two more objects
                if (!Json && afterKey.Kind == TokenKind.OpenCurly)
                    value = ParseValue(afterKey);
                else
                {
                    bool separator = afterKey.Kind == TokenKind.Colon || (!Json && afterKey.Kind is TokenKind.Equals or TokenKind.PlusEquals);
                    if (!separator)
                    {
                        if (afterKey.Kind == TokenKind.End && hadOpenCurly)
                            throw Error(afterKey, $"unclosed brace: key '{HoconPath.Render(path)}' has no value and the '{{' opened at line {open!.Origin.Line} column {open.Origin.Column} is never closed");
                        throw Error(afterKey, QuoteSuggestion(afterKey, $"Key '{HoconPath.Render(path)}' may not be followed by token: {afterKey.Describe()}"));
                    }
                    if (afterKey.Kind == TokenKind.Equals)
                    {
                        insideEquals = true;
                        _equalsCount++;
                    }
                    bool plusEquals = afterKey.Kind == TokenKind.PlusEquals;
                    if (plusEquals)
                    {
                        if (_arrayCount > 0)
                            throw Error(afterKey, "Due to current limitations of the config parser, += does not work nested inside a list. += expands to a ${} substitution and the path in ${} cannot currently refer to list elements. You might be able to move the += outside of the list and then refer to it from inside the list with ${}.");
                        _arrayCount++;
                    }
                    value = ConsolidateValues() ?? ParseValue(NextSkippingWhitespace());
                    if (plusEquals)
                    {
                        _arrayCount--;
                        var previous = new Substitution(value.Origin, FullCurrentPath(), optional: true);
                        value = Concat.Concatenate([previous, new HoconList(value.Origin, [value])]);
                    }
                    if (insideEquals) _equalsCount--;
                }
                _pathStack.RemoveAt(_pathStack.Count - 1);
                _depth -= path.Length - 1;
                lastInsideEquals = insideEquals;
                lastPath = path;

                var key = path[0];
                if (Json && values.TryGetValue(key, out var existing))
                    throw Error(t, $"JSON does not allow duplicate fields: '{key}' was already seen at {existing[0].Origin}");
                HoconValue nested = value;
                for (int i = path.Length - 1; i >= 1; i--)
                    nested = new HoconObject(value.Origin, [new(path[i], nested)], false, new Dictionary<string, HoconOrigin> { [path[i]] = pathOrigins[i] });
                keyOrigins.TryAdd(key, pathOrigins[0]);
                Put(key, nested);
                afterComma = false;
            }

            if (CheckElementSeparator())
            {
                afterComma = true;
                continue;
            }
            t = NextSkippingWhitespace();
            if (t.Kind == TokenKind.CloseCurly)
            {
                if (!hadOpenCurly) throw Error(t, QuoteSuggestion(t, "unbalanced close brace '}' with no open brace", lastPath, lastInsideEquals));
                break;
            }
            if (hadOpenCurly)
            {
                if (t.Kind == TokenKind.End)
                    throw Error(t, $"unclosed brace: expecting close brace '}}' for the '{{' opened at line {open!.Origin.Line} column {open.Origin.Column}, got end of file");
                throw Error(t, QuoteSuggestion(t, $"Expecting close brace }} or a comma, got {t.Describe()}", lastPath, lastInsideEquals));
            }
            if (t.Kind == TokenKind.End)
            {
                PutBack(t);
                break;
            }
            throw Error(t, QuoteSuggestion(t, $"Expecting end of input or a comma, got {t.Describe()}", lastPath, lastInsideEquals));
        }
        _depth--;
        return new HoconObject(origin, order.Select(k => new KeyValuePair<string, HoconValue>(k,
            values[k].Count == 1 ? values[k][0] : Merge.All(values[k]))), false, keyOrigins);
    }

    private (string[] Keys, HoconOrigin[] Origins) ParseKey(Token first)
    {
        if (Json)
        {
            if (first.Kind == TokenKind.Value && first.Value is HoconString s) return ([s.Value], [first.Origin]);
            throw Error(first, $"Expecting close brace }} or a field name here, got {first.Describe()}");
        }
        var expression = new List<Token>();
        var t = first;
        while (t.Kind is TokenKind.Value or TokenKind.Unquoted)
        {
            expression.Add(t);
            t = NextToken(); // a key never crosses a newline
        }
        if (expression.Count == 0)
            throw Error(t, QuoteSuggestion(t, $"Expecting a field name (key) here, got {t.Describe()}"));
        PutBack(t);
        return HoconPath.FromTokensWithOrigins(expression, first.Origin);
    }

    private string[] FullCurrentPath() => _pathStack.SelectMany(p => p).ToArray();

    /// <summary>A comma, or (outside JSON) one or more newlines optionally followed by a comma, separates elements.</summary>
    private bool CheckElementSeparator()
    {
        if (Json)
        {
            var j = NextSkippingWhitespace();
            if (j.Kind == TokenKind.Comma) return true;
            PutBack(j);
            return false;
        }
        bool sawNewline = false;
        while (true)
        {
            var t = NextToken();
            if (t.IsUnquotedWhitespace) continue;
            if (t.Kind == TokenKind.Newline)
            {
                sawNewline = true;
                continue;
            }
            if (t.Kind == TokenKind.Comma) return true;
            PutBack(t);
            return sawNewline;
        }
    }

    private HoconList ParseArray(Token open)
    {
        Enter(open.Origin);
        _arrayCount++;
        var items = new List<HoconValue>();
        var first = ConsolidateValues();
        if (first is not null) items.Add(first);
        else
        {
            var t = NextSkippingWhitespace();
            if (t.Kind == TokenKind.CloseSquare)
            {
                _arrayCount--;
                _depth--;
                return new HoconList(open.Origin, items);
            }
            if (StartsValue(t)) items.Add(ParseValue(t));
            else if (t.Kind == TokenKind.End)
                throw Error(t, $"unclosed list: expecting close bracket ']' for the '[' opened at line {open.Origin.Line} column {open.Origin.Column}, got end of file");
            else
                throw Error(t, $"List should have ] or a first element after the open [, instead had token: {t.Describe()} (if you want {t.Describe()} to be part of a string value, then double-quote it)");
        }
        while (true)
        {
            if (!CheckElementSeparator())
            {
                var t = NextSkippingWhitespace();
                if (t.Kind == TokenKind.CloseSquare)
                {
                    _arrayCount--;
                    _depth--;
                    return new HoconList(open.Origin, items);
                }
                if (t.Kind == TokenKind.End)
                    throw Error(t, $"unclosed list: expecting close bracket ']' for the '[' opened at line {open.Origin.Line} column {open.Origin.Column}, got end of file");
                throw Error(t, $"List should have ended with ] or had a comma, instead had token: {t.Describe()} (if you want {t.Describe()} to be part of a string value, then double-quote it)");
            }
            var next = ConsolidateValues();
            if (next is not null)
            {
                items.Add(next);
                continue;
            }
            var u = NextSkippingWhitespace();
            if (StartsValue(u)) items.Add(ParseValue(u));
            else if (!Json && u.Kind == TokenKind.CloseSquare) PutBack(u); // one trailing comma is allowed
            else if (u.Kind == TokenKind.End)
                throw Error(u, $"unclosed list: expecting close bracket ']' for the '[' opened at line {open.Origin.Line} column {open.Origin.Column}, got end of file");
            else
                throw Error(u, $"List should have had new element after a comma, instead had token: {u.Describe()} (if you want the comma or {u.Describe()} to be part of a string value, then double-quote it)");
        }
    }

    private const string ExpectingCloseParen = "expecting a close parentheses ')' here, not: ";

    private void ParseInclude(Token includeToken, Dictionary<string, List<HoconValue>> values, List<string> order)
    {
        var t = NextSkippingWhitespace();
        bool required = false;
        if (t.Kind == TokenKind.Unquoted && t.Text.StartsWith("required(", StringComparison.Ordinal))
        {
            required = true;
            var rest = t.Text["required(".Length..];
            if (rest.Length > 0) PutBack(new Token(TokenKind.Unquoted, t.Origin, rest));
        }
        else PutBack(t);

        var (kind, name, nameToken) = ParseIncludeResource();
        if (required)
        {
            var close = NextSkippingWhitespace();
            if (!(close.Kind == TokenKind.Unquoted && close.Text == ")"))
                throw Error(close, ExpectingCloseParen + close.Describe());
        }

        // The included root's fields land in the current object, one level below its depth.
        var included = _includer.Include(kind, name, required, nameToken.Origin, _depth - 1);
        if (_arrayCount > 0 && !included.IsResolved)
            throw Error(includeToken, "Due to current limitations of the config parser, when an include statement is nested inside a list value, ${} substitutions inside the included file cannot be resolved correctly. Either move the include outside of the list value or remove the ${} statements from the included file.");
        if (_pathStack.Count > 0) included = (HoconObject)Relativize(included, FullCurrentPath());
        foreach (var (key, v) in included.Fields)
        {
            if (!values.TryGetValue(key, out var list))
            {
                values[key] = list = [];
                order.Add(key);
            }
            list.Add(v);
        }
    }

    private (IncludeKind Kind, string Name, Token NameToken) ParseIncludeResource()
    {
        var t = NextSkippingWhitespace();
        if (t.Kind == TokenKind.Value && t.Value is HoconString s) return (IncludeKind.Heuristic, s.Value, t);
        if (t.Kind != TokenKind.Unquoted)
            throw Error(t, $"include keyword is not followed by a quoted string, but by: {t.Describe()}");
        IncludeKind kind;
        string prefix;
        if (t.Text.StartsWith("url(", StringComparison.Ordinal)) (kind, prefix) = (IncludeKind.Url, "url(");
        else if (t.Text.StartsWith("file(", StringComparison.Ordinal)) (kind, prefix) = (IncludeKind.File, "file(");
        else if (t.Text.StartsWith("classpath(", StringComparison.Ordinal)) (kind, prefix) = (IncludeKind.Classpath, "classpath(");
        else
            throw Error(t, $"expecting include parameter to be quoted filename, file(), classpath(), or url(). No spaces are allowed before the open paren. Not expecting: {t.Describe()}");
        var rest = t.Text[prefix.Length..];
        if (rest.Length > 0) PutBack(new Token(TokenKind.Unquoted, t.Origin, rest));
        var nameToken = NextSkippingWhitespace();
        if (!(nameToken.Kind == TokenKind.Value && nameToken.Value is HoconString name))
            throw Error(nameToken, $"expecting include {prefix}) parameter to be a quoted string, rather than: {nameToken.Describe()}");
        var close = NextSkippingWhitespace();
        if (close.Kind == TokenKind.Unquoted && close.Text.StartsWith(')'))
        {
            var after = close.Text[1..];
            if (after.Length > 0) PutBack(new Token(TokenKind.Unquoted, close.Origin, after));
        }
        else throw Error(close, ExpectingCloseParen + close.Describe());
        return (kind, name.Value, nameToken);
    }

    /// <summary>Prefixes every substitution path with the include point, remembering the prefix for the root/env fallbacks.</summary>
    internal static HoconValue Relativize(HoconValue v, string[] prefix) => v switch
    {
        Substitution s => new Substitution(s.Origin, [.. prefix, .. s.Path], s.Optional, s.PrefixLength + prefix.Length),
        Concatenation c => new Concatenation(c.Origin, c.Pieces.Select(p => Relativize(p, prefix)).ToArray()),
        DelayedMerge d => new DelayedMerge(d.Origin, d.Stack.Select(p => Relativize(p, prefix)).ToArray()),
        HoconObject o when !o.IsResolved => new HoconObject(o.Origin, o.Fields.Select(f => new KeyValuePair<string, HoconValue>(f.Key, Relativize(f.Value, prefix))), o.IgnoresFallbacks, o.KeyOrigins),
        HoconList l when !l.IsResolved => new HoconList(l.Origin, l.Items.Select(i => Relativize(i, prefix))),
        _ => v,
    };
}
