using System.CommandLine;
using CoFUsfl.Simulation.Metrics;
using Spectre.Console;

namespace CoFUsfl.Cli.Commands;

/// <summary><c>cofusfl report RUN_DIR… --out docs/results.md</c>: the results document of a communication experiment, from run folders.</summary>
[CliCommand]
public static class ReportCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run folders (the first is the float32 U-SFL baseline).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Markdown file to write; its plots go to <name>-plots/ beside it.", DefaultValueFactory = _ => "docs/results.md" };
        var title = new Option<string>("--title") { Description = "Title of the document.", DefaultValueFactory = _ => "CoF U-SFL: communication vs quality" };
        var reference = new Option<string?>("--codec-reference") { Description = "JSON of `codec eval --out` for the same codec trained without a split (cofusfl codec train): shown as the reference point." };
        var kind = new Option<string>("--kind")
        {
            Description = "communication: bytes vs quality against the first run (the CoF U-SFL reproduction); personalization: every client's codec on its own domain's held-out images (FedLC); classification: joint compression + classification folders of codec train (accuracy, bits and PSNR of one encoder at several rates); distillation: folders of lambda-* codec train outputs with their kodak.json (teacher first: parameters, BD-rate, coding time).",
            DefaultValueFactory = _ => "communication",
        };
        kind.AcceptOnlyFromAmong("communication", "personalization", "classification", "distillation");
        var command = new Command("report", "Write a results document (tables and SVG plots) comparing run folders against the first.") { runs, output, title, reference, kind };
        command.SetAction(r =>
        {
            if (r.GetValue(kind) is "classification" or "distillation")
            {
                var dirs = r.GetValue(runs)!;
                var md = r.GetValue(output)!;
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(md))!);
                static (string, long) Describe(string checkpoint)
                {
                    using var codec = CoFUsfl.Simulation.Training.CodecTrainer.Load(checkpoint);
                    return (codec.Name, codec.parameters_().Sum(p => p.numel()));
                }
                try
                {
                    if (r.GetValue(kind) == "classification") ClassificationReport.Write(dirs, md, r.GetValue(title)!, DateTimeOffset.UtcNow);
                    else DistillationReport.Write(dirs, md, r.GetValue(title)!, Describe, DateTimeOffset.UtcNow);
                }
                catch (FormatException e) { throw new CliException($"error: {e.Message}"); }
                catch (InvalidDataException e) { throw new CliException($"error: {e.Message}"); }
                AnsiConsole.MarkupLine($"report: [bold]{Markup.Escape(md)}[/] ({dirs.Length} runs)");
                return 0;
            }
            var folders = new List<RunFolder>();
            foreach (var dir in r.GetValue(runs)!)
            {
                try { folders.Add(RunFolder.Load(dir)); }
                catch (InvalidDataException e) { throw new CliException($"error: {e.Message}"); }
            }
            var path = r.GetValue(output)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            System.Text.Json.Nodes.JsonObject? codec = null;
            if (r.GetValue(reference) is { } f)
            {
                try { codec = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(f))!.AsObject(); }
                catch (Exception e) when (e is IOException or System.Text.Json.JsonException or InvalidOperationException or UnauthorizedAccessException)
                {
                    throw new CliException($"error: --codec-reference {f}: not a codec eval result ({e.Message})");
                }
            }
            if (r.GetValue(kind) == "personalization")
            {
                try { PersonalizationReport.Write(folders, path, r.GetValue(title)!, DateTimeOffset.UtcNow); }
                catch (InvalidDataException e) { throw new CliException($"error: {e.Message}"); }
            }
            else ResultsReport.Write(folders, path, r.GetValue(title)!, DateTimeOffset.UtcNow, codec);
            AnsiConsole.MarkupLine($"report: [bold]{Markup.Escape(path)}[/] ({folders.Count} runs)");
            return 0;
        });
        return command;
    }
}
