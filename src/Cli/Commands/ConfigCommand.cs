using System.CommandLine;
using CoFUsfl.Hocon;
using CoFUsfl.Simulation.Cluster;
using CoFUsfl.Simulation.Configuration;

namespace CoFUsfl.Cli.Commands;

/// <summary><c>cofusfl config resolve FILE [-D path=value]... [--json] [--with-reference] [--no-env]</c>.</summary>
[CliCommand]
public static class ConfigCommand
{
    /// <summary>Builds <c>config</c> with its <c>resolve</c> subcommand; without <c>--with-reference</c> it behaves like Lightbend's <c>parseFile(FILE).resolve()</c>.</summary>
    public static Command Create()
    {
        var command = new Command("config", "Inspect HOCON configuration files.");
        var file = new Argument<string>("FILE") { Description = "A .conf (HOCON), .json or .properties file." };
        var json = new Option<bool>("--json") { Description = "Print concise JSON (keys sorted, numbers as numbers, nulls kept)." };
        var withReference = new Option<bool>("--with-reference") { Description = "Merge over the framework's reference.conf and report unknown keys." };
        var noEnv = new Option<bool>("--no-env") { Description = "Do not fall back to environment variables for undefined substitutions." };
        var defines = CliConfig.DefineOption();
        var resolve = new Command("resolve", "Print the fully resolved configuration (like Lightbend config's resolve().render()). Errors: FILE:LINE:COLUMN: message, exit 2.")
        {
            file, json, withReference, noEnv, defines,
        };
        resolve.SetAction(r =>
        {
            var config = CliConfig.Load(r.GetValue(file)!, CliConfig.Defines(r, defines), r.GetValue(withReference), !r.GetValue(noEnv));
            if (config.HasPath("cofusfl")) WarnAsRunWould(config);
            Console.Out.Write(r.GetValue(json) ? config.ToJson() + Environment.NewLine : config.Render());
            Console.Out.Flush();
            return 0;
        });
        command.Subcommands.Add(resolve);
        return command;
    }

    /// <summary>
    /// The warnings <c>cofusfl run</c> would print (a duration without a unit), on stderr. Binding errors are left to
    /// the commands that use the values: resolve only prints the tree, and prints it for an incomplete file too.
    /// </summary>
    private static void WarnAsRunWould(Config config)
    {
        try
        {
            SimulationConfig.Bind(config, Console.Error.WriteLine);
            ClusterSettings.Bind(config, Console.Error.WriteLine);
        }
        catch (Exception e) when (e is HoconException or ArgumentException) { }
    }
}
