using System.CommandLine;
using CoFUsfl.Torch;

namespace CoFUsfl.Cli.Commands;

/// <summary><c>cofusfl info</c>: what this installation runs on.</summary>
[CliCommand]
public static class InfoCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print as JSON." };
        var command = new Command("info", "libtorch version, CUDA devices, threads and the native library in use.") { json };
        command.SetAction(r =>
        {
            var cuda = torch.cuda.is_available();
            var fields = new (string Key, object Value)[]
            {
                ("cofusfl", typeof(InfoCommand).Assembly.GetName().Version?.ToString(3) ?? "?"),
                ("libtorch", torch.Version),
                ("cuda_available", cuda),
                ("cuda_devices", cuda ? torch.cuda.device_count() : 0),
                ("cuda_device_names", string.Join("; ", CudaDevices.List().Select(d => $"cuda:{d.Index} {d.Name} ({d.TotalMemoryBytes / (1L << 30)} GiB)"))),
                ("threads", torch.get_num_threads()),
                ("native_library", torch.NativeLibraryPath),
                ("dotnet", Environment.Version.ToString()),
                ("processors", Environment.ProcessorCount),
            };
            if (r.GetValue(json))
            {
                var o = new System.Text.Json.Nodes.JsonObject();
                foreach (var (k, v) in fields) o[k] = System.Text.Json.Nodes.JsonValue.Create(v);
                Console.WriteLine(o.ToJsonString());
            }
            else
            {
                foreach (var (k, v) in fields) Console.WriteLine($"{k,-16} {v}");
            }
            return 0;
        });
        return command;
    }
}
