using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CoFUsfl.Models.Metrics;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>
/// <c>cofusfl report --kind distillation</c>: codecs trained at several λ each (a teacher, a student without
/// distillation, a student with FEDS), compared on Kodak through real bitstreams: parameters, the RD points, BD-rate and
/// BD-PSNR against the first (the teacher) and against the second (the undistilled student), encode and decode time.
/// Each run is a folder of <c>lambda-*</c> folders holding a <c>codec train</c> output (<c>codec.safetensors</c>) and its
/// <c>kodak.json</c> (<c>codec eval --out</c>).
/// </summary>
public static class DistillationReport
{
    private static string F(double v, string format = "F2") => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    public sealed record Point(double Lambda, double Bpp, double Psnr, double MsSsim, double EncodeMs, double DecodeMs, int Images);

    public sealed record Run(string Name, string Dir, string Model, long Parameters, IReadOnlyList<Point> Points)
    {
        public RdCurve Curve => new(Name, Points.Select(p => p.Bpp).ToArray(), Points.Select(p => p.Psnr).ToArray());
    }

    /// <summary>Reads every <c>lambda-*</c> folder of <paramref name="dir"/> (sorted by λ); anything missing or malformed names its file.</summary>
    public static Run Load(string dir, Func<string, (string Model, long Parameters)> describe)
    {
        if (!Directory.Exists(dir)) throw new InvalidDataException($"{dir}: no such run folder");
        var points = new List<Point>();
        string? model = null;
        long parameters = 0;
        foreach (var sub in Directory.GetDirectories(dir, "lambda-*").Order(StringComparer.Ordinal))
        {
            var eval = Path.Combine(sub, "kodak.json");
            var codec = Path.Combine(sub, "codec.safetensors");
            var archived = Path.Combine(sub, "codec.json"); // what the report keeps of a checkpoint beside the document
            if (!File.Exists(eval) || !(File.Exists(codec) || File.Exists(archived))) continue; // not finished
            if (!double.TryParse(Path.GetFileName(sub)["lambda-".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out var lambda))
                throw new InvalidDataException($"{sub}: the folder name does not give λ (lambda-0.013)");
            try
            {
                var j = JsonNode.Parse(File.ReadAllText(eval))!.AsObject();
                points.Add(new Point(lambda, j["bpp"]!.GetValue<double>(), j["psnr"]!.GetValue<double>(), j["ms_ssim"]?.GetValue<double>() ?? double.NaN,
                    j["encode_ms"]?.GetValue<double>() ?? double.NaN, j["decode_ms"]?.GetValue<double>() ?? double.NaN, j["images"]!.GetValue<int>()));
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException or FormatException)
            {
                throw new InvalidDataException($"{eval}: not a codec eval result ({e.Message})");
            }
            var (m, p) = File.Exists(codec) ? describe(codec) : ReadArchived(archived);
            if (model is not null && m != model) throw new InvalidDataException($"{dir}: its λ folders hold different models ({model}, {m})");
            (model, parameters) = (m, p);
        }
        if (points.Count == 0) throw new InvalidDataException($"{dir}: no lambda-* folder with codec.safetensors and kodak.json");
        return new Run(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir))), dir, model!, parameters, points.OrderBy(p => p.Lambda).ToList());
    }

    private static (string, long) ReadArchived(string path)
    {
        try
        {
            var j = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            return (j["model"]!.GetValue<string>(), j["parameters"]!.GetValue<long>());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a codec description ({e.Message})");
        }
    }

    private static string Bd(Run anchor, Run test, bool rate)
    {
        if (anchor.Points.Count < 4 || test.Points.Count < 4) return "– (needs 4 λ each)";
        try { return rate ? F(Bjontegaard.BdRate(anchor.Curve, test.Curve), "+0.00;−0.00") + " %" : F(Bjontegaard.BdPsnr(anchor.Curve, test.Curve), "+0.00;−0.00") + " dB"; }
        catch (ArgumentException e) { return e.Message.Contains("overlap", StringComparison.Ordinal) ? $"– (no overlap in {(rate ? "PSNR" : "rate")})" : $"– ({e.Message})"; }
    }

    /// <param name="describe">Model name and parameter count of a codec checkpoint.</param>
    public static string Write(IReadOnlyList<string> dirs, string markdownPath, string title, Func<string, (string Model, long Parameters)> describe, DateTimeOffset? now = null)
    {
        if (dirs.Count == 0) throw new ArgumentException("no run folder");
        var runs = dirs.Select(d => Load(d, describe)).ToList();
        var anchor = runs[0];
        var md = new StringBuilder();
        md.AppendLine($"# {title}").AppendLine();
        md.AppendLine($"Generated by `cofusfl report --kind distillation` from {runs.Count} folders ({string.Join(", ", runs.Select(r => $"`{r.Dir}`"))})" +
                      (now is { } t ? $" on {t:yyyy-MM-dd}" : "") + ". Each codec is one `cofusfl codec train` at one λ, evaluated on Kodak " +
                      "through real bitstreams (PSNR of 8-bit RGB, bpp from bytes written; encode/decode time is the mean per image on this " +
                      "machine's CPU, one run). BD-rate: Bjøntegaard's average rate difference at equal PSNR (cubic fits, our own code); " +
                      "negative is fewer bits.").AppendLine();
        md.AppendLine($"| run | model | parameters | vs {anchor.Name} | BD-rate vs {anchor.Name} | BD-PSNR vs {anchor.Name} |" +
                      (runs.Count > 2 ? $" BD-rate vs {runs[1].Name} | BD-PSNR vs {runs[1].Name} |" : "") + " encode (ms) | decode (ms) |");
        md.AppendLine("|---|---|---|---|---|---|" + (runs.Count > 2 ? "---|---|" : "") + "---|---|");
        foreach (var r in runs)
        {
            var fewer = r == anchor ? "–" : $"{F(100.0 * (1 - (double)r.Parameters / anchor.Parameters), "F1")} % fewer parameters";
            md.AppendLine($"| {r.Name} | {r.Model} | {r.Parameters:N0} | {fewer} | {(r == anchor ? "–" : Bd(anchor, r, true))} | {(r == anchor ? "–" : Bd(anchor, r, false))} |" +
                          (runs.Count > 2 ? $" {(r == anchor || r == runs[1] ? "–" : Bd(runs[1], r, true))} | {(r == anchor || r == runs[1] ? "–" : Bd(runs[1], r, false))} |" : "") +
                          $" {F(r.Points.Average(p => p.EncodeMs), "F0")} | {F(r.Points.Average(p => p.DecodeMs), "F0")} |");
        }
        md.AppendLine();
        md.AppendLine("## Kodak RD points").AppendLine();
        md.AppendLine("| run | λ | bpp | PSNR (dB) | MS-SSIM | images |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in runs)
            foreach (var p in r.Points)
                md.AppendLine($"| {r.Name} | {F(p.Lambda, "G4")} | {F(p.Bpp, "F3")} | {F(p.Psnr)} | {F(p.MsSsim, "F4")} | {p.Images} |");
        md.AppendLine();
        var plotDir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(markdownPath))!, Path.GetFileNameWithoutExtension(markdownPath) + "-plots");
        Directory.CreateDirectory(plotDir);
        var rel = Path.GetFileName(plotDir);
        File.WriteAllText(Path.Combine(plotDir, "kodak_rd.svg"), Plots.LineChart("Kodak: PSNR vs bits written", "bpp", "PSNR (dB)",
            runs.Select(r => new Series(r.Name, r.Points.Select(p => p.Bpp).ToList(), r.Points.Select(p => p.Psnr).ToList())).ToList()));
        md.AppendLine($"![Kodak RD]({rel}/kodak_rd.svg)").AppendLine();
        foreach (var r in runs)
            foreach (var sub in Directory.GetDirectories(r.Dir, "lambda-*"))
            {
                var dest = Path.Combine(plotDir, "runs", r.Name, Path.GetFileName(sub));
                Directory.CreateDirectory(dest);
                foreach (var file in new[] { "kodak.json", "train.jsonl" })
                    ResultsReport.CopyRecord(Path.Combine(sub, file), Path.Combine(dest, file));
                if (Path.GetFullPath(sub) != Path.GetFullPath(dest))
                    File.WriteAllText(Path.Combine(dest, "codec.json"), new JsonObject { ["model"] = r.Model, ["parameters"] = r.Parameters }.ToJsonString() + "\n");
            }
        md.AppendLine($"Each codec's `kodak.json`, `train.jsonl` and model and parameter count (`codec.json`) are copied to [`{rel}/runs/`]({rel}/runs/): " +
                      "`scripts/feds.sh --report` regenerates this document from them when `runs/feds` holds no run.");
        var text = md.ToString();
        File.WriteAllText(markdownPath, text);
        return text;
    }
}
