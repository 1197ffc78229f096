using System.CommandLine;
using CoFUsfl.Hocon;
using CoFUsfl.Simulation.Configuration;

namespace CoFUsfl.Cli;

/// <summary>
/// One way for every config-taking command to load its configuration, like Lightbend's ConfigFactory.load:
/// <c>-D</c> overrides over the user's file over the embedded reference.conf, validated and resolved.
/// Usage in a command:
/// <code>
/// var defines = CliConfig.DefineOption();
/// command.Options.Add(defines);
/// command.SetAction(r => { var config = CliConfig.Load(r.GetValue(file)!, CliConfig.Defines(r, defines)); ... });
/// </code>
/// Errors are <see cref="CliException"/>s (exit 2) whose message is <c>FILE:LINE:COLUMN: message</c>.
/// </summary>
public static class CliConfig
{
    /// <summary>The repeatable <c>-D path=value</c> option (also <c>-Dpath=value</c>); the value is parsed as a HOCON value.</summary>
    public static Option<string[]> DefineOption() => new("-D")
    {
        Description = "Override a setting, like Java's -Dpath=value: -D path=value (repeatable; the value is HOCON, e.g. -D a.b=[1,2]).",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        HelpName = "path=value",
    };

    /// <summary>The values given to the <c>-D</c> option, in command-line order.</summary>
    public static IReadOnlyList<string> Defines(ParseResult result, Option<string[]> option) => result.GetValue(option) ?? [];

    /// <summary>
    /// Loads <paramref name="file"/> for a command: defines over the file over reference.conf; unknown keys
    /// (not in reference.conf, see <see cref="KeyValidator"/> for the open-section rule) are errors; resolves with the
    /// environment-variable fallback on.
    /// </summary>
    public static Config Load(string file, IEnumerable<string> defines) =>
        Load(file, defines, withReference: true, useEnvironment: true);

    /// <summary>The same pipeline with its switches exposed (used by <c>cofusfl config resolve</c>).</summary>
    public static Config Load(string file, IEnumerable<string> defines, bool withReference, bool useEnvironment)
    {
        try
        {
            var user = ApplyDefines(Config.ParseFile(file), defines);
            if (withReference)
            {
                var reference = Config.ParseString(ReferenceConfig.Text, "reference.conf");
                var unknown = user.FindUnknownKeys(reference);
                if (unknown.Count > 0)
                    throw new CliException(string.Join(Environment.NewLine, unknown.Select(u => $"{u.Origin}: {u.Message}")), 2);
                user = user.WithFallback(reference);
            }
            return user.Resolve(new ResolveOptions { UseEnvironment = useEnvironment });
        }
        catch (HoconException e)
        {
            throw new CliException(e.Message, 2);
        }
    }

    /// <summary>Merges each <c>path=value</c> over <paramref name="config"/> (before resolution, so substitutions see them).</summary>
    public static Config ApplyDefines(Config config, IEnumerable<string> defines)
    {
        foreach (var define in defines)
        {
            var origin = "-D " + define;
            var eq = define.IndexOf('=');
            if (eq <= 0) throw new HoconException(new HoconOrigin(origin, 1, 1), "expected -D path=value");
            var path = define[..eq].Trim();
            var valueText = define[(eq + 1)..];
            var value = valueText.Trim().Length == 0
                ? new HoconString(new HoconOrigin(origin, 1, eq + 2), "")
                : Config.ParseValue(valueText, origin, columnOffset: eq + 1);
            config = config.WithOverride(path, value);
        }
        return config;
    }
}
