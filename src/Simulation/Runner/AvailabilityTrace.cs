namespace CoFUsfl.Simulation.Runner;

/// <summary>
/// On/off availability of clients per round, read from a text file: lines <c>client-0003 1101001</c>
/// (1 = available in that round; the pattern repeats), <c>#</c> comments.
/// </summary>
public sealed class AvailabilityTrace
{
    private readonly Dictionary<string, string> patterns;

    private AvailabilityTrace(Dictionary<string, string> patterns) => this.patterns = patterns;

    public static AvailabilityTrace Empty { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>True/false for a listed client in a round (1-based); null when the client is not in the trace.</summary>
    public bool? IsAvailable(string client, uint round) =>
        patterns.TryGetValue(client, out var p) ? p[(int)((round - 1) % (uint)p.Length)] == '1' : null;

    public int Count => patterns.Count;

    public static AvailabilityTrace Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"cofusfl.clients.availability-trace: no file at {Path.GetFullPath(path)}");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var n = 0;
        foreach (var raw in File.ReadLines(path))
        {
            n++;
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0) continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[1].Any(c => c is not ('0' or '1')))
                throw new InvalidDataException($"{path}:{n}: expected 'CLIENT-ID BITS' with BITS made of 0 and 1, got '{raw.Trim()}'");
            if (!map.TryAdd(parts[0], parts[1])) throw new InvalidDataException($"{path}:{n}: {parts[0]} is listed twice");
        }
        return new AvailabilityTrace(map);
    }
}
