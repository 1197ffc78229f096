using System.Text.Json.Nodes;
using CoFUsfl.Actors;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>
/// Failures of actors that supervision absorbs (a client whose handler throws is restarted and its round counts it as
/// dropped). Without this a broken input — an undecodable image, a missing system library — would only show as
/// "0 clients completed". Each distinct cause is reported once, when first seen; every occurrence is counted for
/// <c>summary.json</c>. Injected crashes are faults, counted there, not failures.
/// </summary>
public sealed class ActorFailures(Action<string>? warn)
{
    private readonly object gate = new();
    private readonly List<(string Cause, string FirstActor)> order = [];
    private readonly Dictionary<string, long> counts = new(StringComparer.Ordinal);

    /// <summary>Occurrences so far, injected crashes excluded.</summary>
    public long Total { get { lock (gate) return counts.Values.Sum(); } }

    /// <summary>The first failure from arithmetic (non-finite values to code: a diverged model), or null.</summary>
    public string? FirstArithmetic { get; private set; }

    /// <summary>Handler for <see cref="ActorSystem.ActorFailed"/>.</summary>
    public void Record(ActorRef actor, Exception e)
    {
        if (e is InjectedCrashException) return;
        var cause = $"{e.GetType().Name}: {e.Message}";
        if (e is ArithmeticException) lock (gate) FirstArithmetic ??= $"{actor.Address}: {cause}";
        bool first;
        lock (gate)
        {
            first = !counts.TryGetValue(cause, out var n);
            counts[cause] = n + 1;
            if (first) order.Add((cause, actor.Address));
        }
        if (first)
            warn?.Invoke($"warning: actor {actor.Address} failed: {cause} — it is restarted (a client drops out of its round); " +
                         "later failures with this cause are counted in summary.json (actor_failures)");
    }

    /// <summary><c>{"total": n, "causes": [{"cause", "count", "first_actor"}]}</c>, causes in the order first seen, merged with an earlier session's.</summary>
    public JsonObject ToJson(JsonObject? earlier = null)
    {
        var causes = new List<(string Cause, long Count, string First)>();
        if (earlier?["causes"] is JsonArray before)
            foreach (var c in before.OfType<JsonObject>())
                causes.Add((c["cause"]!.GetValue<string>(), c["count"]!.GetValue<long>(), c["first_actor"]!.GetValue<string>()));
        lock (gate)
            foreach (var (cause, firstActor) in order)
            {
                var i = causes.FindIndex(c => c.Cause == cause);
                if (i >= 0) causes[i] = causes[i] with { Count = causes[i].Count + counts[cause] };
                else causes.Add((cause, counts[cause], firstActor));
            }
        return new JsonObject
        {
            ["total"] = causes.Sum(c => c.Count),
            ["causes"] = new JsonArray(causes.Select(c => (JsonNode)new JsonObject { ["cause"] = c.Cause, ["count"] = c.Count, ["first_actor"] = c.First }).ToArray()),
        };
    }
}
