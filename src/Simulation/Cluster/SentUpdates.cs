using System.Runtime.CompilerServices;
using CoFUsfl.Actors;
using CoFUsfl.Simulation.Runner;

[assembly: InternalsVisibleTo("CoFUsfl.Cluster.Tests")]

namespace CoFUsfl.Simulation.Cluster;

/// <summary>
/// <see cref="UpdateCounters.Sent"/> in cluster mode: one per (client actor address, round), from the worker's report
/// (<see cref="Protocol.UpdateSent"/>) or from the update's arrival at the aggregator, whichever comes first. The report
/// alone is not enough: a broker restart loses what its queues held, and a lost report whose update got through
/// (re-published after the reconnect) would leave an update counted but never sent (<c>lost_updates</c> below zero).
/// The address tells a client re-placed on another worker (it trains the round again: another update) from a
/// repetition. A client's rounds only go up, so the latest round per address is all that is kept. Thread-safe.
/// </summary>
internal sealed class SentUpdates(UpdateCounters counters, Action<string, uint>? clientFinished)
{
    private readonly Dictionary<string, uint> latest = new(StringComparer.Ordinal);

    /// <param name="client">Address of the client actor that sent the update (or its report).</param>
    public void Mark(string client, uint round)
    {
        lock (latest)
        {
            if (latest.TryGetValue(client, out var last) && last >= round) return;
            latest[client] = round;
        }
        Interlocked.Increment(ref counters.Sent);
        clientFinished?.Invoke(ActorAddress.NameOf(client), round);
    }
}
