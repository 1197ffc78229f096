using System.Text.Json;
using System.Text.Json.Nodes;

namespace CoFUsfl.Models.Metrics;

/// <summary>
/// A rate–distortion curve in CompressAI's results format:
/// <c>{"name", "description", "results": {"psnr-rgb": [...], "ms-ssim-rgb": [...], "bpp": [...], ...}}</c>.
/// Every curve has bpp; PSNR, MS-SSIM and MS-SSIM in dB are each present only when the file has them
/// (some paper curves report MS-SSIM dB alone).
/// </summary>
public sealed record RdCurve(string Name, double[] Bpp, double[]? Psnr, double[]? MsSsim = null, string Description = "", double[]? MsSsimDb = null)
{
    /// <summary>The PSNR values, or an <see cref="InvalidOperationException"/> naming the curve when it has none.</summary>
    public double[] RequirePsnr() => Psnr ?? throw new InvalidOperationException($"RD curve '{Name}' has no PSNR values");

    /// <summary>Reads a CompressAI results JSON file (the PSNR key is <c>psnr-rgb</c>, or <c>psnr</c> in older files).</summary>
    /// <exception cref="InvalidDataException">Missing or mismatched arrays; the message names the file and key.</exception>
    public static RdCurve Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = Path.GetFileName(path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{file}: not valid JSON: {e.Message}", e); }
        if (root is not JsonObject obj) throw new InvalidDataException($"{file}: top level is not a JSON object");
        if (obj["results"] is not JsonObject results) throw new InvalidDataException($"{file}: no \"results\" object");
        var name = obj["name"]?.GetValue<string>() ?? Path.GetFileNameWithoutExtension(path);
        var description = obj["description"]?.GetValue<string>() ?? "";
        var bpp = Array(results, file, "bpp") ?? throw new InvalidDataException($"{file}: results has no \"bpp\" array");
        var psnr = Array(results, file, "psnr-rgb") ?? Array(results, file, "psnr");
        var msssim = Array(results, file, "ms-ssim-rgb") ?? Array(results, file, "ms-ssim");
        var msssimDb = Array(results, file, "ms-ssim-db-rgb") ?? Array(results, file, "ms-ssim-db");
        if (psnr is null && msssim is null && msssimDb is null)
            throw new InvalidDataException($"{file}: results has none of \"psnr-rgb\", \"ms-ssim-rgb\", \"ms-ssim-db-rgb\"");
        if (psnr is not null && psnr.Length != bpp.Length) throw new InvalidDataException($"{file}: {bpp.Length} bpp values but {psnr.Length} PSNR values");
        if (msssim is not null && msssim.Length != bpp.Length) throw new InvalidDataException($"{file}: {bpp.Length} bpp values but {msssim.Length} MS-SSIM values");
        if (msssimDb is not null && msssimDb.Length != bpp.Length) throw new InvalidDataException($"{file}: {bpp.Length} bpp values but {msssimDb.Length} MS-SSIM dB values");
        return new RdCurve(name, bpp, psnr, msssim, description, msssimDb);
    }

    private static double[]? Array(JsonObject results, string file, string key)
    {
        if (!results.TryGetPropertyValue(key, out var node) || node is null) return null;
        if (node is not JsonArray arr) throw new InvalidDataException($"{file}: results.{key} is not an array");
        var r = new double[arr.Count];
        for (var i = 0; i < arr.Count; i++)
        {
            try { r[i] = arr[i]!.GetValue<double>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
            {
                throw new InvalidDataException($"{file}: results.{key}[{i}] is not a number", e);
            }
        }
        return r;
    }

    /// <summary>Writes the curve in the same format <see cref="Load"/> reads.</summary>
    public void Save(string path)
    {
        var results = new JsonObject();
        if (Psnr is not null) results["psnr-rgb"] = new JsonArray(Psnr.Select(v => (JsonNode?)v).ToArray());
        if (MsSsim is not null) results["ms-ssim-rgb"] = new JsonArray(MsSsim.Select(v => (JsonNode?)v).ToArray());
        if (MsSsimDb is not null) results["ms-ssim-db-rgb"] = new JsonArray(MsSsimDb.Select(v => (JsonNode?)v).ToArray());
        results["bpp"] = new JsonArray(Bpp.Select(v => (JsonNode?)v).ToArray());
        var obj = new JsonObject { ["name"] = Name, ["description"] = Description, ["results"] = results };
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
