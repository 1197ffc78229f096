namespace CoFUsfl.Simulation.Data;

/// <summary>
/// Splits training images over clients: <c>iid</c> (a seeded shuffle dealt out), <c>domain</c> (client i draws only
/// from domain i mod D — one image domain per client), or <c>dirichlet</c> (each client's domain mix ~ Dir(α)).
/// </summary>
public static class Partitions
{
    /// <param name="domains">Image indices of each domain (training folder).</param>
    /// <param name="samplesPerClient">Images per client; 0 = an equal share of all images.</param>
    public static int[][] Build(string kind, IReadOnlyList<int[]> domains, int clients, double alpha, int samplesPerClient, long seed)
    {
        if (clients <= 0) throw new ArgumentOutOfRangeException(nameof(clients), clients, "need at least one client");
        var total = domains.Sum(d => d.Length);
        if (total == 0) throw new ArgumentException("no training images");
        var per = samplesPerClient > 0 ? samplesPerClient : Math.Max(1, total / clients);
        var rng = new Random(unchecked((int)(seed * 7919 + 17)));
        var result = new int[clients][];
        switch (kind)
        {
            case "iid":
            {
                var all = domains.SelectMany(d => d).ToArray();
                rng.Shuffle(all);
                for (var c = 0; c < clients; c++)
                    result[c] = Enumerable.Range(0, per).Select(i => all[(c * per + i) % all.Length]).ToArray();
                break;
            }
            case "domain":
            {
                var nonEmpty = domains.Where(d => d.Length > 0).Select(d => d.ToArray()).ToArray();
                foreach (var d in nonEmpty) rng.Shuffle(d);
                var cursor = new int[nonEmpty.Length];
                for (var c = 0; c < clients; c++)
                {
                    var di = c % nonEmpty.Length;
                    var d = nonEmpty[di];
                    result[c] = Enumerable.Range(0, per).Select(_ => d[cursor[di]++ % d.Length]).ToArray();
                }
                break;
            }
            case "dirichlet":
            {
                if (alpha <= 0) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "cofusfl.data.partition.alpha must be positive");
                var pools = domains.Select(d => { var a = d.ToArray(); rng.Shuffle(a); return a; }).ToArray();
                var cursor = new int[pools.Length];
                for (var c = 0; c < clients; c++)
                {
                    var mix = Dirichlet(rng, alpha, pools.Length, pools.Select(p => p.Length > 0).ToArray());
                    var list = new int[per];
                    for (var i = 0; i < per; i++)
                    {
                        var u = rng.NextDouble();
                        var di = 0;
                        for (var acc = mix[0]; di < mix.Length - 1 && u > acc; acc += mix[++di]) { }
                        while (pools[di].Length == 0) di = (di + 1) % pools.Length;
                        list[i] = pools[di][cursor[di]++ % pools[di].Length];
                    }
                    result[c] = list;
                }
                break;
            }
            default:
                throw new ArgumentException($"cofusfl.data.partition.kind: unknown '{kind}' (iid, domain, dirichlet)");
        }
        return result;
    }

    private static double[] Dirichlet(Random rng, double alpha, int k, bool[] allowed)
    {
        var x = new double[k];
        double sum = 0;
        for (var i = 0; i < k; i++)
        {
            x[i] = allowed[i] ? Gamma(rng, alpha) : 0;
            sum += x[i];
        }
        if (sum <= 0) { var first = Array.IndexOf(allowed, true); x[first] = 1; sum = 1; }
        for (var i = 0; i < k; i++) x[i] /= sum;
        return x;
    }

    /// <summary>Gamma(α, 1) by Marsaglia–Tsang (with the α &lt; 1 boost).</summary>
    private static double Gamma(Random rng, double alpha)
    {
        if (alpha < 1) return Gamma(rng, alpha + 1) * Math.Pow(rng.NextDouble(), 1 / alpha);
        var d = alpha - 1.0 / 3;
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal(rng);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            var u = rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    private static double Normal(Random rng)
    {
        var u1 = 1 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
