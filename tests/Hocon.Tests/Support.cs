using CoFUsfl.Hocon;

namespace CoFUsfl.Hocon.Tests;

internal static class H
{
    public static readonly ResolveOptions NoEnv = new() { UseEnvironment = false };

    public static Config Parse(string text) => Config.ParseString(text, "test.conf");

    public static Config Resolved(string text, IDictionary<string, string>? env = null) =>
        Parse(text).Resolve(env is null ? NoEnv : new ResolveOptions { Environment = k => env.TryGetValue(k, out var v) ? v : null });

    /// <summary>The resolved config as concise JSON (Lightbend's render(concise)).</summary>
    public static string Json(string text, IDictionary<string, string>? env = null) => Resolved(text, env).ToJson();

    public static HoconException Error(Action action)
    {
        var e = Assert.Throws<HoconException>(action);
        return e;
    }

    public static HoconException ParseError(string text) => Error(() => Parse(text).Resolve(NoEnv));

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("hocon-tests-").FullName;

        public string Write(string name, string text)
        {
            var full = System.IO.Path.Combine(Path, name);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
            return full;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
