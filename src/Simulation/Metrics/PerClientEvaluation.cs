using System.Text.Json.Nodes;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.Evaluation;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Strategies;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>
/// <c>evaluation.per-client</c>: each client's codec — the global head/body/tail with that client's personal parameters
/// of both sides swapped in — coded through real bitstreams on the held-out images of the client's own domains
/// (training folders). Clients without personal parameters share the global codec, evaluated once per domain.
/// </summary>
public sealed class PerClientEvaluation(SimulationContext ctx)
{
    /// <summary>The name of domain <paramref name="d"/>: its training folder.</summary>
    public string DomainName(int d) => d < ctx.Options.Data.Train.Count ? ctx.Options.Data.Train[d] : $"domain-{d}";

    /// <param name="assemble">Builds a codec from parameter sets applied in order (the later win), ready to code.</param>
    public JsonObject Evaluate(RoundRecord r, Func<IReadOnlyList<ParameterSet>, CompressionModel> assemble)
    {
        var o = ctx.Options;
        var domainOf = new Dictionary<int, int>();
        for (var d = 0; d < ctx.Images.Domains.Count; d++)
            foreach (var i in ctx.Images.Domains[d]) domainOf[i] = d;
        var serverPersonal = r.ServerPersonal is { } sp ? ServerPersonalization.Split(sp) : [];
        var globalByDomain = new Dictionary<int, List<ImageResult>>();

        List<ImageResult> Code(CompressionModel model, int domain)
        {
            var images = ctx.HeldOut[domain].AsEnumerable();
            if (o.Evaluation.Limit > 0) images = images.Take(o.Evaluation.Limit);
            return images.Select(i =>
            {
                var (name, chw, h, w) = ctx.Images.Image(i);
                return CodecEvaluator.EvaluateImage(model, name, chw, h, w);
            }).ToList();
        }

        var clients = new JsonObject();
        var perDomain = new SortedDictionary<int, List<(double Psnr, double Bpp, int Images)>>();
        var clientMeans = new List<(double Psnr, double Bpp)>();
        foreach (var spec in ctx.Clients)
        {
            var domains = spec.Images.Select(i => domainOf[i]).Distinct().Order().Where(d => ctx.HeldOut[d].Length > 0).ToList();
            if (domains.Count == 0) continue;
            var own = new List<ParameterSet>();
            if (serverPersonal.TryGetValue(spec.Id, out var s)) own.Add(s.Values);
            if (ctx.ClientPersonalState.TryGetValue(spec.Id, out var c)) own.Add(c);
            var results = new SortedDictionary<int, List<ImageResult>>();
            if (own.Count == 0)
            {
                foreach (var d in domains)
                {
                    if (!globalByDomain.TryGetValue(d, out var g))
                    {
                        using var model = assemble([r.ServerParameters, r.ClientParameters]);
                        globalByDomain[d] = g = Code(model, d);
                    }
                    results[d] = g;
                }
            }
            else
            {
                using var model = assemble([r.ServerParameters, r.ClientParameters, .. own]);
                foreach (var d in domains) results[d] = Code(model, d);
            }
            var byDomain = new JsonObject();
            foreach (var (d, list) in results)
            {
                byDomain[DomainName(d)] = Json(list);
                if (!perDomain.TryGetValue(d, out var acc)) perDomain[d] = acc = [];
                acc.Add((list.Average(x => x.Psnr), list.Average(x => x.Bpp), list.Count));
            }
            var all = results.Values.SelectMany(x => x).ToList();
            clientMeans.Add((all.Average(x => x.Psnr), all.Average(x => x.Bpp)));
            var entry = Json(all);
            entry["personal"] = own.Count > 0;
            entry["domains"] = byDomain;
            clients[spec.Id] = entry;
        }
        var domainsJson = new JsonObject();
        foreach (var (d, list) in perDomain)
            domainsJson[DomainName(d)] = new JsonObject
            {
                ["clients"] = list.Count, ["images"] = list.Sum(x => x.Images),
                ["psnr"] = list.Average(x => x.Psnr), ["bpp"] = list.Average(x => x.Bpp),
            };
        var result = new JsonObject { ["clients_evaluated"] = clientMeans.Count };
        if (clientMeans.Count > 0)
        {
            // Means over clients (each client's mean over its images), then over the clients of each domain.
            result["psnr"] = clientMeans.Average(x => x.Psnr);
            result["bpp"] = clientMeans.Average(x => x.Bpp);
        }
        result["domains"] = domainsJson;
        result["clients"] = clients;
        return result;
    }

    private static JsonObject Json(IReadOnlyList<ImageResult> list) => new()
    {
        ["images"] = list.Count, ["psnr"] = list.Average(x => x.Psnr), ["bpp"] = list.Average(x => x.Bpp),
        ["bpp_estimated"] = list.Average(x => x.EstimatedBpp),
    };
}
