using CoFUsfl.Hocon;

namespace CoFUsfl.Simulation.Configuration;

/// <summary>Reads the typed <see cref="SimulationOptions"/> out of a resolved configuration.</summary>
public static class SimulationConfig
{
    /// <param name="warn">Told about values that bind but are probably not meant (a duration without a unit, FILE:LINE:COLUMN first).</param>
    public static SimulationOptions Bind(Config resolved, Action<string>? warn = null)
    {
        var o = resolved.GetConfig("cofusfl").Bind<SimulationOptions>(warn);
        return o with { Data = o.Data with { Root = ResolveRoot(o.Data.Root) } };
    }

    /// <summary>
    /// A relative data root is taken against the working directory when it exists there, else against the
    /// repository root above this installation (so <c>../shared/datasets</c> works from a checkout).
    /// </summary>
    public static string ResolveRoot(string root)
    {
        if (Path.IsPathRooted(root)) return root;
        var here = Path.GetFullPath(root);
        if (Directory.Exists(here)) return here;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CoFUsfl.sln")))
            {
                var p = Path.GetFullPath(Path.Combine(dir.FullName, root));
                if (Directory.Exists(p)) return p;
            }
        return here;
    }
}
