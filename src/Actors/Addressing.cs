using System.Text;

namespace CoFUsfl.Actors;

/// <summary>
/// Identity of a node: its name (the first segment of every address it hosts) and an incarnation
/// that changes whenever the process restarts, so peers can tell a stale sender from a live one.
/// </summary>
public readonly record struct NodeId(string Name, ulong Incarnation)
{
    /// <summary><c>name#incarnation</c>.</summary>
    public override string ToString() => $"{Name}#{Incarnation}";
}

/// <summary>
/// Address helpers. An address is <c>node/path</c>, e.g. <c>local/user/client-17</c>: the node name,
/// then the actor's path under that node. It is a plain string so it survives any transport.
/// </summary>
public static class ActorAddress
{
    /// <summary>The node part of an address (everything before the first '/').</summary>
    public static string NodeOf(string address)
    {
        var i = address.IndexOf('/');
        return i < 0 ? address : address[..i];
    }

    /// <summary>The path part of an address (after the node), e.g. <c>user/client-17</c>.</summary>
    public static string PathOf(string address)
    {
        var i = address.IndexOf('/');
        return i < 0 ? "" : address[(i + 1)..];
    }

    /// <summary>True for the address of an Ask promise (<c>node/temp/ROLE/ID</c>), which lives for one question and its reply.</summary>
    public static bool IsTemporary(string address)
    {
        var i = address.IndexOf('/');
        return i >= 0 && address.AsSpan(i + 1).StartsWith("temp/", StringComparison.Ordinal);
    }

    /// <summary>The last segment: the actor's name.</summary>
    public static string NameOf(string address)
    {
        var i = address.LastIndexOf('/');
        return i < 0 ? address : address[(i + 1)..];
    }

    /// <summary>True when <paramref name="name"/> can be one path segment.</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && name.IndexOfAny(['/', '*', '?', ' ', '\n', '\r', '\t', '#']) < 0;

    /// <summary>
    /// Default role of an actor: its name without a trailing <c>-N</c> or digits, so
    /// <c>client-17</c> and <c>client-3</c> share the role <c>client</c>. Roles key the traffic counters.
    /// </summary>
    public static string DefaultRole(string name)
    {
        var end = name.Length;
        while (end > 0 && char.IsAsciiDigit(name[end - 1])) end--;
        if (end < name.Length && end > 0 && (name[end - 1] == '-' || name[end - 1] == '_')) end--;
        return end == 0 ? name : name[..end];
    }

    /// <summary>
    /// Role of an actor known only by address (a remote one): the default role of its name, except for Ask
    /// promises (<c>node/temp/ROLE/ID</c>), which carry the role of the asking actor in their path.
    /// </summary>
    public static string RoleOf(string address)
    {
        var path = PathOf(address);
        if (path.StartsWith("temp/", StringComparison.Ordinal))
        {
            var rest = path[5..];
            var slash = rest.IndexOf('/');
            if (slash > 0) return rest[..slash];
        }
        return DefaultRole(NameOf(address));
    }

    /// <summary>Stable 64-bit FNV-1a hash of a string's UTF-16 units (string.GetHashCode is randomized per process).</summary>
    internal static ulong StableHash(string s, ulong seed = 14695981039346656037UL)
    {
        var h = seed;
        foreach (var c in s)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h;
    }

    internal static int Utf8FieldSize(string s)
    {
        if (s.Length == 0) return 0;
        var n = Encoding.UTF8.GetByteCount(s);
        return 1 + VarintSize((ulong)n) + n;
    }

    internal static int VarintSize(ulong v)
    {
        var n = 1;
        while (v >= 0x80) { v >>= 7; n++; }
        return n;
    }
}

/// <summary>
/// Glob over actor identities: <c>*</c> matches any run of characters (slashes included), <c>?</c> one character.
/// A pattern matches an actor when it matches its name, its role, its path under <c>user/</c>, its path, or its full address.
/// </summary>
public static class ActorPattern
{
    /// <summary>True when <paramref name="pattern"/> matches <paramref name="text"/> entirely.</summary>
    public static bool Glob(string pattern, string text)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t])) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { starP = p++; starT = t; }
            else if (starP >= 0) { p = starP + 1; t = ++starT; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    /// <summary>Matches an actor by any of its identities (see the type's summary).</summary>
    public static bool Matches(string pattern, string address, string role)
    {
        if (pattern == "*") return true;
        var path = ActorAddress.PathOf(address);
        var underUser = path.StartsWith("user/", StringComparison.Ordinal) ? path[5..] : path;
        return Glob(pattern, ActorAddress.NameOf(address)) || Glob(pattern, role) || Glob(pattern, underUser)
               || Glob(pattern, path) || Glob(pattern, address);
    }
}
