namespace CoFUsfl.Hocon.Tests;

/// <summary>
/// Golden corpus: every <c>Corpus/NAME</c> input has a <c>NAME.expected</c> holding what Lightbend's reference
/// implementation (typesafe-config, <c>parseFile(...).resolve()</c> without environment, rendered concise) prints:
/// the JSON, or <c>ERROR LINE</c> for an error (line omitted where the reference gives none).
/// </summary>
public class CorpusTests
{
    private static string Dir => Path.Combine(AppContext.BaseDirectory, "Corpus");

    public static IEnumerable<object[]> Files() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Corpus"), "*.expected")
            .Select(f => new object[] { Path.GetFileNameWithoutExtension(f) })
            .OrderBy(x => (string)x[0], StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Files))]
    public void Corpus_file_resolves_like_the_reference_implementation(string name)
    {
        var expected = File.ReadAllText(Path.Combine(Dir, name + ".expected")).Trim();
        var path = Path.Combine(Dir, name);
        if (expected.StartsWith("ERROR", StringComparison.Ordinal))
        {
            var e = H.Error(() => Config.ParseFile(path).Resolve(H.NoEnv));
            var line = expected["ERROR".Length..].Trim();
            if (line.Length > 0) e.Line.Should().Be(int.Parse(line), e.Message);
        }
        else
        {
            Config.ParseFile(path).Resolve(H.NoEnv).ToJson().Should().Be(expected);
        }
    }
}
