namespace CoFUsfl.Models.Tests;

/// <summary>(Shared by all Models tests; same namespace wherever the file lives.) Locates the shared data folder: walk up from the test assembly to the folder holding CoFUsfl.sln, then ../shared.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CoFUsfl.sln"))) dir = dir.Parent;
        if (dir is null) throw new DirectoryNotFoundException($"no CoFUsfl.sln above {AppContext.BaseDirectory}");
        return dir.FullName;
    });

    public static string RepoRoot => Root.Value;
    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
    public static string Datasets => Path.Combine(Shared, "datasets");
    public static string Kodak => Path.Combine(Datasets, "kodak");
    public static string ReferenceRd => Path.Combine(Shared, "reference", "kodak-rd");

    /// <summary>A fresh temporary folder for one test.</summary>
    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "cofusfl-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(d);
        return d;
    }
}
