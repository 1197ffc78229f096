namespace CoFUsfl.Actors.Remote.RabbitMq;

/// <summary>What a node offers for hosting client actors; the coordinator places clients by it.</summary>
/// <param name="CpuSlots">Client actors that may train on the CPU at once.</param>
/// <param name="Gpus">GPUs the node may use (each counts as one slot for placement).</param>
public readonly record struct NodeCapacity(int CpuSlots, int Gpus)
{
    /// <summary>Slots for placement: GPUs and CPU slots together.</summary>
    public int Slots => Math.Max(0, CpuSlots) + Math.Max(0, Gpus);
}

/// <summary>
/// Settings of the RabbitMQ transport and membership (HOCON <c>cofusfl.cluster</c>). Credentials come from here or from the
/// environment (<c>COFUSFL_BROKER_USER</c>, <c>COFUSFL_BROKER_PASSWORD</c>); they are never written to logs or error texts.
/// </summary>
public sealed record RabbitMqOptions
{
    /// <summary>Environment variable read when <see cref="User"/> is not set.</summary>
    public const string UserVariable = "COFUSFL_BROKER_USER";
    /// <summary>Environment variable read when <see cref="Password"/> is not set.</summary>
    public const string PasswordVariable = "COFUSFL_BROKER_PASSWORD";

    /// <summary>Broker address, <c>amqp://host:port/vhost</c>. User info in the URI is accepted but <see cref="User"/>/<see cref="Password"/> win.</summary>
    public Uri Uri { get; init; } = new("amqp://127.0.0.1:5672/");
    /// <summary>Broker user; null = <c>COFUSFL_BROKER_USER</c>, then the URI's user info, then "guest".</summary>
    public string? User { get; init; }
    /// <summary>Broker password; null = <c>COFUSFL_BROKER_PASSWORD</c>, then the URI's user info, then "guest".</summary>
    public string? Password { get; init; }
    /// <summary>Virtual host; null = the URI's path, then "/". One virtual host per run keeps runs apart.</summary>
    public string? VirtualHost { get; init; }

    /// <summary>What this node is for (e.g. "worker", "coordinator"); announced in heartbeats.</summary>
    public string Role { get; init; } = "worker";
    /// <summary>What this node offers for placement; announced in heartbeats.</summary>
    public NodeCapacity Capacity { get; init; } = new(1, 0);

    /// <summary>Largest envelope the transport carries; a larger one is refused with an error (never silently dropped). Default 512 MiB.</summary>
    public long MaxMessageSize { get; init; } = 512L << 20;
    /// <summary>Envelopes above this travel as chunks of this size and are reassembled by the receiver. Default 4 MiB.</summary>
    public int ChunkSize { get; init; } = 4 << 20;
    /// <summary>Bytes queued or awaiting a publisher confirm before <see cref="IRemoteTransport.Send"/> waits (back-pressure). Default 256 MiB.</summary>
    public long OutboundQueueBytes { get; init; } = 256L << 20;
    /// <summary>How long a sender waits for room in the outbound queue before the envelope is refused (a dead letter). Default 30 s.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Deliveries the broker pushes before the receiver acknowledges (inbound flow control). Default 64.</summary>
    public ushort Prefetch { get; init; } = 64;

    /// <summary>How often this node announces itself. Default 1 s.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>A member not heard from for this long is unreachable. Default 5 s.</summary>
    public TimeSpan UnreachableAfter { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>AMQP heartbeat with the broker: a connection silent for twice this long is closed by the broker, and its inbox with it. Default 10 s.</summary>
    public TimeSpan BrokerHeartbeat { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Time allowed to open a connection. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>After losing the broker, how long to keep trying to reconnect before giving up (the node then stops carrying messages). Default 2 min.</summary>
    public TimeSpan ReconnectFor { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>At shutdown, how long to wait for queued envelopes to be confirmed. Default 10 s.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where errors the transport reports (refusals, lost transfers, reconnects) go, besides <see cref="RabbitMqTransport.Failed"/>. Null = standard error.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>The user after applying the fallbacks.</summary>
    public string EffectiveUser =>
        User ?? Environment.GetEnvironmentVariable(UserVariable) ?? UserInfoPart(0) ?? "guest";

    internal string EffectivePassword =>
        Password ?? Environment.GetEnvironmentVariable(PasswordVariable) ?? UserInfoPart(1) ?? "guest";

    /// <summary>The virtual host after applying the fallbacks.</summary>
    public string EffectiveVirtualHost
    {
        get
        {
            if (VirtualHost is not null) return VirtualHost;
            var path = Uri.AbsolutePath.TrimStart('/');
            return path.Length == 0 ? "/" : Uri.UnescapeDataString(path);
        }
    }

    /// <summary>The broker address without user info: safe to print.</summary>
    public string SafeUri => $"{Uri.Scheme}://{Uri.Host}:{(Uri.IsDefaultPort ? 5672 : Uri.Port)}";

    private string? UserInfoPart(int i)
    {
        if (string.IsNullOrEmpty(Uri.UserInfo)) return null;
        var parts = Uri.UserInfo.Split(':', 2);
        return i < parts.Length ? Uri.UnescapeDataString(parts[i]) : null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting that is out of range.</summary>
    public void Validate()
    {
        if (Uri.Scheme is not ("amqp" or "amqps")) throw new ArgumentException($"cofusfl.cluster.broker.uri: scheme must be amqp or amqps, got '{Uri.Scheme}'");
        if (ChunkSize < 4096) throw new ArgumentException($"cofusfl.cluster.chunk-size must be at least 4096 bytes, got {ChunkSize}");
        if (MaxMessageSize < 1 || MaxMessageSize > Array.MaxLength - 64)
            throw new ArgumentException($"cofusfl.cluster.max-message-size must be between 1 and {Array.MaxLength - 64} bytes, got {MaxMessageSize}");
        if (OutboundQueueBytes < ChunkSize) throw new ArgumentException($"cofusfl.cluster.outbound-queue ({OutboundQueueBytes} bytes) must be at least the chunk size ({ChunkSize})");
        if (HeartbeatInterval <= TimeSpan.Zero) throw new ArgumentException("cofusfl.cluster.heartbeat-interval must be positive");
        if (UnreachableAfter <= HeartbeatInterval) throw new ArgumentException($"cofusfl.cluster.unreachable-after ({UnreachableAfter}) must exceed heartbeat-interval ({HeartbeatInterval})");
        if (Capacity.CpuSlots < 0 || Capacity.Gpus < 0) throw new ArgumentException("cofusfl.cluster.node: cpu-slots and gpus must not be negative");
        if (!ActorAddress.IsValidName(Role)) throw new ArgumentException($"cofusfl.cluster.node.role: invalid role '{Role}'");
    }

    /// <summary>Replaces every occurrence of the password in <paramref name="text"/> (error texts from the client library may echo the URI).</summary>
    internal string Mask(string text)
    {
        var p = EffectivePassword;
        if (p.Length > 0) text = text.Replace(p, "****", StringComparison.Ordinal);
        var escaped = Uri.EscapeDataString(p);
        if (escaped.Length > 0 && escaped != p) text = text.Replace(escaped, "****", StringComparison.Ordinal);
        return text;
    }
}

/// <summary>The broker refused the credentials or the virtual host. Names the user, virtual host and broker; never the password.</summary>
public sealed class BrokerAuthenticationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The broker could not be reached, or refused the node (e.g. its name is taken by a live node).</summary>
public sealed class BrokerConnectionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What went wrong with one envelope or transfer; raised by <see cref="RabbitMqTransport.Failed"/>.</summary>
public enum TransportFailureKind
{
    /// <summary>The envelope is larger than <see cref="RabbitMqOptions.MaxMessageSize"/>.</summary>
    TooLarge,
    /// <summary>No room in the outbound queue within <see cref="RabbitMqOptions.SendTimeout"/>.</summary>
    QueueFull,
    /// <summary>The destination node has no inbox on the broker (it left or never joined).</summary>
    Unroutable,
    /// <summary>The broker refused (nacked) the publish.</summary>
    Nacked,
    /// <summary>An inbound transfer could not be reassembled or decoded.</summary>
    BadInbound,
    /// <summary>The transport is stopped (shut down or could not reconnect).</summary>
    Stopped,
}

/// <summary>One failure of the transport: which node, why, and (for outbound envelopes) the envelope that was not delivered.</summary>
public sealed record TransportFailure(TransportFailureKind Kind, string Node, string Detail, ReadOnlyMemory<byte> Envelope);
