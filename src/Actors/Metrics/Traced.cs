namespace CoFUsfl.Actors;

/// <summary>
/// A message that went through the routing layer, with what the receiving side must account and log.
/// Only allocated when accounting, logging, faults, links or serialization are on: the plain real-time
/// path queues the bare message.
/// </summary>
internal sealed class Traced(object message, ulong id, int size, string type, TrafficStats? stats)
{
    public object Message { get; } = message;
    public ulong Id { get; } = id;
    public int Size { get; } = size;
    public string Type { get; } = type;
    public TrafficStats? Stats { get; } = stats;

    public static object Unwrap(object m) => m is Traced t ? t.Message : m;
}
