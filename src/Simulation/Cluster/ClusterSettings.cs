using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Hocon;

namespace CoFUsfl.Simulation.Cluster;

/// <summary>
/// <c>cofusfl.cluster</c>: whether a run is spread over worker processes, how many it waits for, and the broker
/// transport settings. Every key has a default here, so configurations without a cluster block stay valid.
/// Credentials come from the configuration or from <c>COFUSFL_BROKER_USER</c>/<c>COFUSFL_BROKER_PASSWORD</c>.
/// </summary>
public sealed record ClusterSettings
{
    /// <summary>Run the coordinator, server and aggregator here and the clients on worker nodes.</summary>
    public bool Enabled { get; init; }
    /// <summary>Worker nodes the coordinator waits for before the first round.</summary>
    public int MinNodes { get; init; } = 1;
    /// <summary>How long the coordinator waits for <see cref="MinNodes"/>.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>This node's name (the first segment of its actors' addresses).</summary>
    public string NodeName { get; init; } = "coordinator";
    /// <summary>Transport, membership and this node's role and capacity.</summary>
    public RabbitMqOptions Transport { get; init; } = new();

    /// <summary>Reads <c>cofusfl.cluster</c> of a resolved configuration; missing keys take the defaults above. Errors name the key.</summary>
    /// <param name="warn">Told about a duration without a unit (FILE:LINE:COLUMN first).</param>
    public static ClusterSettings Bind(Config resolved, Action<string>? warn = null)
    {
        const string root = "cofusfl.cluster";
        var d = new ClusterSettings();
        if (!resolved.HasPath(root)) return d;
        var c = resolved.GetConfig(root);
        T Get<T>(string key, T fallback, Func<string, T> read)
        {
            if (!c.HasPath(key)) return fallback;
            try { return read(key); }
            catch (HoconException e) { throw new ArgumentException($"{root}.{key}: {e.Message}", e); }
        }
        string? Str(string key) => c.HasPath(key) ? c.GetString(key) : null;
        TimeSpan Duration(string key) => c.GetDuration(key, warn);

        var t = d.Transport;
        var uriText = Get("broker.uri", t.Uri.ToString(), c.GetString);
        if (!Uri.TryCreate(uriText, UriKind.Absolute, out var uri))
            throw new ArgumentException($"{root}.broker.uri: '{WithoutPassword(uriText)}' is not an absolute URI (amqp://host:port/vhost)");
        var transport = t with
        {
            Uri = uri,
            User = Str("broker.user") is { Length: > 0 } u ? u : null,
            Password = Str("broker.password") is { Length: > 0 } p ? p : null,
            VirtualHost = Str("broker.vhost") is { Length: > 0 } v ? v : null,
            Role = Get("node.role", t.Role, c.GetString),
            Capacity = new NodeCapacity(Get("node.cpu-slots", t.Capacity.CpuSlots, c.GetInt), Get("node.gpus", t.Capacity.Gpus, c.GetInt)),
            HeartbeatInterval = Get("heartbeat-interval", t.HeartbeatInterval, Duration),
            UnreachableAfter = Get("unreachable-after", t.UnreachableAfter, Duration),
            MaxMessageSize = Get("max-message-size", t.MaxMessageSize, c.GetBytes),
            ChunkSize = (int)Math.Min(int.MaxValue, Get("chunk-size", (long)t.ChunkSize, c.GetBytes)),
            OutboundQueueBytes = Get("outbound-queue", t.OutboundQueueBytes, c.GetBytes),
        };
        var s = new ClusterSettings
        {
            Enabled = Get("enabled", d.Enabled, c.GetBoolean),
            MinNodes = Get("min-nodes", d.MinNodes, c.GetInt),
            JoinTimeout = Get("join-timeout", d.JoinTimeout, Duration),
            NodeName = Get("node.name", d.NodeName, c.GetString),
            Transport = transport,
        };
        s.Validate();
        return s;
    }

    /// <summary>
    /// <paramref name="resolved"/> without its secrets, for anything written or printed (a run folder's config.conf):
    /// <c>broker.password</c> emptied (a rerun then takes it from <c>COFUSFL_BROKER_PASSWORD</c>) and the password of the
    /// broker URI's user info removed (<c>amqp://user:pw@host/</c> → <c>amqp://user@host/</c>).
    /// </summary>
    public static Config Redacted(Config resolved)
    {
        const string password = "cofusfl.cluster.broker.password", uri = "cofusfl.cluster.broker.uri";
        if (resolved.HasPath(password) && resolved.GetValue(password) is { } p && !(p is HoconString { Value.Length: 0 }))
            resolved = resolved.WithValue(password, new HoconString(p.Origin, ""));
        if (resolved.HasPath(uri) && resolved.GetValue(uri) is HoconString u && WithoutPassword(u.Value) is var safe && safe != u.Value)
            resolved = resolved.WithValue(uri, new HoconString(u.Origin, safe));
        return resolved;
    }

    /// <summary>A URI text without the password of its user info (<c>amqp://user:pw@host/</c> → <c>amqp://user@host/</c>); other text unchanged.</summary>
    public static string WithoutPassword(string uri)
    {
        var start = uri.IndexOf("://", StringComparison.Ordinal);
        if (start < 0) return uri;
        start += 3;
        // A parseable URI knows where its user info ends; for one that is not, any '@' may end it (a password may hold '/').
        var parsed = Uri.TryCreate(uri, UriKind.Absolute, out var u) ? u : null;
        if (parsed is { UserInfo.Length: 0 }) return uri;
        var at = parsed is not null && start + parsed.UserInfo.Length < uri.Length && uri[start + parsed.UserInfo.Length] == '@'
            ? start + parsed.UserInfo.Length
            : uri.LastIndexOf('@');
        if (at < start) return uri;
        var colon = uri.IndexOf(':', start, at - start);
        return colon < 0 ? uri : uri[..colon] + uri[at..];
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the key that is out of range.</summary>
    public void Validate()
    {
        if (MinNodes < 0) throw new ArgumentException($"cofusfl.cluster.min-nodes = {MinNodes}: not negative");
        if (!Actors.ActorAddress.IsValidName(NodeName)) throw new ArgumentException($"cofusfl.cluster.node.name: '{NodeName}' is not a valid node name (no '/', '#', spaces or wildcards)");
        Transport.Validate();
    }
}
