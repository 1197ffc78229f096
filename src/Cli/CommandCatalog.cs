using System.CommandLine;
using System.Reflection;

namespace CoFUsfl.Cli;

/// <summary>Marks a static class whose <c>public static Command Create()</c> builds one top-level command.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CliCommandAttribute : Attribute;

/// <summary>Finds every top-level command in this assembly, so adding a command is adding one file.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> Discover() =>
        typeof(CommandCatalog).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<CliCommandAttribute>() is not null)
            .Select(t => (Command)(t.GetMethod("Create", BindingFlags.Public | BindingFlags.Static)
                ?? throw new InvalidOperationException($"{t.Name} has [CliCommand] but no public static Create()"))
                .Invoke(null, null)!)
            .OrderBy(c => c.Name, StringComparer.Ordinal);
}
