using CoFUsfl.Simulation.Configuration;

namespace CoFUsfl.Simulation.Runner;

/// <summary>Draws each registered client's profile and values (seeded).</summary>
public static class ClientPopulation
{
    public static IReadOnlyList<ClientSpec> Draw(SimulationOptions o, int[][] partitions)
    {
        var rng = new Random(unchecked((int)(o.Seed * 31 + 5)));
        var profiles = o.Clients.Profiles;
        var totalWeight = profiles.Sum(p => p.Weight);
        double Between(IReadOnlyList<double> r) => r[0] + rng.NextDouble() * (r[1] - r[0]);
        var list = new List<ClientSpec>(partitions.Length);
        for (var i = 0; i < partitions.Length; i++)
        {
            var u = rng.NextDouble() * totalWeight;
            var p = profiles[^1];
            foreach (var candidate in profiles)
            {
                if (u < candidate.Weight) { p = candidate; break; }
                u -= candidate.Weight;
            }
            var latency = p.Latency[0] + TimeSpan.FromTicks((long)(rng.NextDouble() * (p.Latency[1] - p.Latency[0]).Ticks));
            list.Add(new ClientSpec(ClientSpec.IdOf(i + 1), i, p.Name, Between(p.Speed), Between(p.UplinkMbps) * 1e6 / 8,
                Between(p.DownlinkMbps) * 1e6 / 8, latency, p.Availability, partitions[i]));
        }
        return list;
    }
}
