namespace CoFUsfl.Hocon.Tests;

/// <summary>
/// Input nested without bound (brackets, braces, key paths, includes, substitution chains) is an error naming
/// FILE:LINE:COLUMN, never a stack overflow. Each case runs on a 1 MiB stack, smaller than any thread's default.
/// </summary>
public class DepthLimitTests
{
    private const int Limit = Config.MaxNestingDepth;

    /// <summary>Runs <paramref name="action"/> on a thread with a 1 MiB stack; a stack overflow would kill the test process.</summary>
    private static Exception? OnSmallStack(Action action)
    {
        Exception? error = null;
        var t = new Thread(() =>
        {
            try { action(); }
            catch (Exception e) { error = e; }
        }, maxStackSize: 1 << 20);
        t.Start();
        t.Join();
        return error;
    }

    private static HoconException TooDeep(string text) =>
        OnSmallStack(() => H.Parse(text).Resolve(H.NoEnv)).Should().BeOfType<HoconException>().Subject;

    [Fact]
    public void A_hundred_thousand_nested_brackets_are_an_error_at_the_first_bracket_too_deep()
    {
        var e = TooDeep("a = " + new string('[', 100_000) + new string(']', 100_000));
        // The root object is level 1, so the 256th '[' (column 4 + 256) is the first past the limit.
        (e.File, e.Line, e.Column).Should().Be(("test.conf", 1, 4 + Limit));
        e.Message.Should().StartWith($"test.conf:1:{4 + Limit}: nested deeper than {Limit} levels");
    }

    [Fact]
    public void A_hundred_thousand_nested_braces_are_an_error()
    {
        var e = TooDeep(string.Concat(Enumerable.Repeat("a {\n", 100_000)) + new string('}', 100_000));
        e.Line.Should().Be(Limit);
        e.Detail.Should().Contain($"deeper than {Limit} levels");
    }

    [Fact]
    public void A_key_path_of_a_hundred_thousand_segments_is_an_error()
    {
        TooDeep(string.Join('.', Enumerable.Repeat("a", 100_000)) + " = 1").Detail.Should().Contain($"deeper than {Limit} levels");
    }

    [Fact]
    public void A_substitution_path_of_a_hundred_thousand_segments_is_an_error()
    {
        TooDeep("b = ${" + string.Join('.', Enumerable.Repeat("a", 100_000)) + "}").Detail.Should().Contain($"deeper than {Limit} levels");
    }

    [Fact]
    public void Nesting_up_to_the_limit_parses_and_renders()
    {
        // Root + 255 lists = 256 levels.
        var text = "a = " + new string('[', Limit - 1) + "1" + new string(']', Limit - 1);
        OnSmallStack(() => H.Resolved(text).Render().Should().Contain("1")).Should().BeNull();
    }

    [Fact]
    public void An_include_counts_from_its_include_point()
    {
        using var dir = new H.TempDir();
        var half = Limit / 2 + 10;
        string Nest(string inner) => string.Concat(Enumerable.Repeat("a {\n", half)) + inner + new string('}', half);
        dir.Write("inner.conf", Nest("x = 1\n"));
        var outer = dir.Write("outer.conf", Nest("include \"inner.conf\"\n"));
        var e = OnSmallStack(() => Config.ParseFile(outer)).Should().BeOfType<HoconException>().Subject;
        e.File.Should().EndWith("inner.conf", "the file that goes too deep is named");
        e.Detail.Should().Contain($"deeper than {Limit} levels");
    }

    [Fact]
    public void A_long_chain_of_substitutions_is_an_error_at_a_substitution()
    {
        var text = "a0 = 1\n" + string.Concat(Enumerable.Range(1, 100_000).Select(i => $"a{i} = ${{a{i - 1}}}\n"));
        var e = TooDeep(text);
        e.Line.Should().BeGreaterThan(1);
        e.Detail.Should().Contain("substitutions nested deeper than");
    }

    [Fact]
    public void Substitutions_that_splice_objects_past_the_limit_are_an_error()
    {
        var text = "x0 = {}\n" + string.Concat(Enumerable.Range(1, Limit + 10).Select(i => $"x{i} = {{ a = ${{x{i - 1}}} }}\n"));
        TooDeep(text).Detail.Should().Contain($"deeper than {Limit} levels after substitution");
    }

    [Fact]
    public void A_define_path_of_a_hundred_thousand_segments_is_an_error()
    {
        var path = string.Join('.', Enumerable.Repeat("a", 100_000));
        OnSmallStack(() => Config.Empty.WithOverride(path, Config.ParseValue("1", "-D")))
            .Should().BeOfType<HoconException>().Which.Detail.Should().Contain($"deeper than {Limit} levels");
    }
}
