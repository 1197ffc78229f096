using System.CommandLine;

namespace CoFUsfl.Cli;

/// <summary>Thrown by commands for a user error: the message is printed as is and the exit code returned.</summary>
public sealed class CliException(string message, int exitCode = 2) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

internal static class CliErrors
{
    /// <summary>Runs the parsed command; user errors become one clear line on stderr and a non-zero exit, never a stack trace.</summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (CliException e)
        {
            Console.Error.WriteLine(e.Message);
            return e.ExitCode;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("COFUSFL_DEBUG") is null)
        {
            var inner = e is System.Reflection.TargetInvocationException { InnerException: { } ie } ? ie : e;
            Console.Error.WriteLine($"error: {inner.Message} ({inner.GetType().Name}; set COFUSFL_DEBUG=1 for the stack trace)");
            return 1;
        }
    }
}
