using CoFUsfl.Simulation.Protocol;
namespace CoFUsfl.Simulation.Metrics;

/// <summary>
/// Payloads a role could not decode (a truncated string, a wrong shape, a bad scale, NaN: a buggy or hostile peer).
/// Both sides answer them the same way: the payload is dropped and counted by kind (the sender's retransmission
/// brings the step back, or the round goes on without it), and each distinct cause is logged once, with the client,
/// round and transfer of its first occurrence. The counts travel in the round's messages (<c>StepStats.rejected</c>,
/// <c>ServerStats.rejected</c>) into <c>rejected_by_kind</c> of metrics.jsonl and summary.json; this class only
/// keeps the log from repeating itself.
/// </summary>
public sealed class RejectedPayloads(Action<string>? warn)
{
    private readonly HashSet<string> seen = new(StringComparer.Ordinal);
    private readonly object gate = new();

    /// <summary>Kinds of payload, as metrics name them.</summary>
    public static readonly string Features1 = Protocol.Transfer.Features1Up.MetricName(), Features2 = Protocol.Transfer.Features2Down.MetricName(),
        Gradient2 = Protocol.Transfer.Gradient2Up.MetricName(), Gradient1 = Protocol.Transfer.Gradient1Down.MetricName();
    public const string TablesUp = "feature_tables_up", TablesDown = "feature_tables_down";

    /// <summary>Logs <paramref name="e"/> if its cause (the message without <paramref name="what"/>, which names client, round and step) is new.</summary>
    public void Report(string kind, string what, Exception e)
    {
        var detail = e.Message.StartsWith(what, StringComparison.Ordinal) ? e.Message[what.Length..].TrimStart(':', ' ') : e.Message;
        bool first;
        lock (gate) first = seen.Add($"{kind}\n{detail}");
        if (first)
            warn?.Invoke($"warning: rejected {kind}: {e.Message} — dropped and counted (rejected_by_kind); later payloads with this cause are only counted");
    }

    /// <summary>Adds one occurrence of <paramref name="kind"/> to a count map of a message.</summary>
    public static void Count(IDictionary<string, ulong> counts, string kind) => counts[kind] = counts.TryGetValue(kind, out var n) ? n + 1 : 1;
}
