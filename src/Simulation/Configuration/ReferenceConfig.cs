namespace CoFUsfl.Simulation.Configuration;

/// <summary>The framework's <c>hocon/reference.conf</c>, embedded in this assembly: every default, documented.</summary>
public static class ReferenceConfig
{
    /// <summary>Resource name under which the build embeds the file.</summary>
    public const string ResourceName = "reference.conf";

    /// <summary>The text of reference.conf.</summary>
    public static string Text { get; } = Load();

    private static string Load()
    {
        using var stream = typeof(ReferenceConfig).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("reference.conf is not embedded in CoFUsfl.Simulation (build problem)");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
