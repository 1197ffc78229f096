namespace CoFUsfl.Hocon.Tests;

/// <summary>Every parse and resolve error carries FILE:LINE:COLUMN pointing at the problem.</summary>
public class ErrorPositionTests
{
    private static HoconException At(string text, int line, int column)
    {
        var e = H.ParseError(text);
        (e.File, e.Line, e.Column).Should().Be(("test.conf", line, column), e.Message);
        e.Message.Should().StartWith($"test.conf:{line}:{column}: ");
        return e;
    }

    [Fact]
    public void Unclosed_brace_is_reported_at_end_of_file_naming_the_open_brace()
    {
        At("a {\n  b = 1\n", 3, 1).Detail.Should().Contain("line 1 column 3");
    }

    [Fact]
    public void Unclosed_list_is_reported_at_end_of_file_naming_the_open_bracket()
    {
        At("a = [1,\n 2", 2, 3).Detail.Should().Contain("line 1 column 5");
    }

    [Fact]
    public void Bad_escape_is_reported_at_the_backslash()
    {
        At("a = 1\nb = \"x\\qy\"", 2, 7).Detail.Should().Contain("not a valid escape sequence");
    }

    [Fact]
    public void Bad_unicode_escape_is_reported_at_the_backslash()
    {
        At("b = \"\\u12G4\"", 1, 6).Detail.Should().Contain("Malformed hex digits");
    }

    [Fact]
    public void Adjacent_periods_in_a_key_are_reported_at_the_second_period()
    {
        At("x = 1\n  a..b = 1", 2, 5).Detail.Should().Contain("two adjacent period");
    }

    [Fact]
    public void Adjacent_periods_in_a_substitution_are_reported_in_the_substitution()
    {
        At("x = 1\ny = ${a..b}", 2, 9).Detail.Should().Contain("two adjacent period");
    }

    [Fact]
    public void Substitution_cycle_is_reported_at_the_substitution()
    {
        At("a = ${b}\nb = ${c}\nc = ${a}", 3, 5).Detail.Should().Contain("cycle");
    }

    [Fact]
    public void Unresolvable_substitution_is_reported_at_the_substitution()
    {
        At("a = 1\nb = x ${nope}", 2, 7).Detail.Should().Contain("${nope}");
    }

    [Fact]
    public void Missing_required_include_is_reported_at_the_file_name()
    {
        At("\n  include required(\"missing-file.conf\")", 2, 20).Detail.Should().Contain("missing-file.conf");
    }

    [Fact]
    public void Mixed_concatenation_is_reported_at_its_first_value()
    {
        At("a = 1\nb = foo [1, 2]", 2, 5).Detail.Should().Contain("Cannot concatenate");
        At("a = 1\nb = foo { x = 1 }", 2, 5).Detail.Should().Contain("Cannot concatenate");
    }

    [Fact]
    public void Mixed_concatenation_after_substitution_is_reported_at_resolve_time()
    {
        At("a = [1]\nb = foo ${a}", 2, 5).Detail.Should().Contain("Cannot concatenate");
    }

    [Fact]
    public void Unterminated_string_is_reported_at_end_of_input()
    {
        At("a = \"abc", 1, 9).Detail.Should().Contain("string quote was still open");
    }

    [Fact]
    public void Newline_in_a_quoted_string_is_reported_where_it_occurs()
    {
        At("a = \"ab\nc\"", 1, 8).Detail.Should().Contain("newline");
    }

    [Fact]
    public void Reserved_character_is_reported_where_it_occurs()
    {
        At("a = 1\nb = x@y", 2, 6).Detail.Should().Contain("Reserved character '@'");
    }

    [Fact]
    public void Missing_separator_is_reported_at_the_unexpected_token()
    {
        At("a = 1\nb [2]", 2, 3).Detail.Should().Contain("may not be followed by token");
    }

    [Fact]
    public void Unclosed_substitution_is_reported_at_the_dollar()
    {
        At("a = 1\nb = ${x", 2, 5).Detail.Should().Contain("not closed");
    }

    [Fact]
    public void Errors_in_included_files_name_the_included_file()
    {
        using var dir = new H.TempDir();
        var inc = dir.Write("inc.conf", "ok = 1\nbad = \"\\x\"");
        var main = dir.Write("main.conf", "include \"inc.conf\"");
        var e = H.Error(() => Config.ParseFile(main));
        (e.File, e.Line, e.Column).Should().Be((inc, 2, 8));
    }

    [Fact]
    public void Missing_file_is_reported_at_line_one()
    {
        var e = H.Error(() => Config.ParseFile("/nonexistent/dir/x.conf"));
        e.Message.Should().Be("/nonexistent/dir/x.conf:1:1: file not found");
    }
}
