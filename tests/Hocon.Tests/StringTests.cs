namespace CoFUsfl.Hocon.Tests;

/// <summary>HOCON.md: unquoted strings, multi-line strings, value concatenation.</summary>
public class StringTests
{
    [Fact]
    public void Unquoted_string_runs_until_a_forbidden_character()
    {
        H.Json("a = foo/bar-baz_1.2").Should().Be("""{"a":"foo/bar-baz_1.2"}""");
    }

    [Theory]
    [InlineData("$")]
    [InlineData("`")]
    [InlineData("^")]
    [InlineData("?")]
    [InlineData("!")]
    [InlineData("@")]
    [InlineData("*")]
    [InlineData("&")]
    [InlineData("\\")]
    [InlineData("+")]
    public void Forbidden_characters_are_errors_outside_quotes(string c)
    {
        H.ParseError($"a = x{c}y").Should().NotBeNull();
    }

    [Fact]
    public void Forbidden_characters_are_fine_inside_quotes()
    {
        H.Json("a = \"$`^?!@*&\\\\+#\"").Should().Be("""{"a":"$`^?!@*&\\+#"}""");
    }

    [Fact]
    public void Whitespace_inside_an_unquoted_value_is_kept_but_trimmed_at_the_ends()
    {
        H.Json("a =   foo   bar   \nb = x").Should().Be("""{"a":"foo   bar","b":"x"}""");
    }

    [Fact]
    public void Keywords_at_the_start_of_unquoted_text_concatenate()
    {
        H.Json("a = truex, b = null null, c = true false").Should().Be("""{"a":"truex","b":"null null","c":"true false"}""");
    }

    [Fact]
    public void Triple_quoted_string_is_raw_and_may_span_lines()
    {
        H.Json("a = \"\"\"line1\n  \\n \"quoted\" line2\"\"\"").Should().Be("""{"a":"line1\n  \\n \"quoted\" line2"}""");
    }

    [Fact]
    public void Extra_quotes_before_the_closing_triple_quote_belong_to_the_string()
    {
        H.Json("a = \"\"\"x\"\"\"\"\"").Should().Be("""{"a":"x\"\""}""");
    }

    [Fact]
    public void Unterminated_triple_quoted_string_is_an_error()
    {
        H.ParseError("a = \"\"\"abc").Detail.Should().Contain("triple-quoted string");
    }

    [Fact]
    public void String_concatenation_joins_quoted_and_unquoted_values_with_their_whitespace()
    {
        H.Json("a = \"foo\" bar \"baz\"  1.0 true").Should().Be("""{"a":"foo bar baz  1.0 true"}""");
    }

    [Fact]
    public void Empty_quoted_string_is_not_a_triple_quote()
    {
        H.Json("a = \"\", b = \"\" x").Should().Be("""{"a":"","b":" x"}""");
    }

    [Fact]
    public void Array_concatenation_appends_lists()
    {
        H.Json("a = [1, 2] [3, 4]").Should().Be("""{"a":[1,2,3,4]}""");
    }

    [Fact]
    public void Object_concatenation_merges_objects()
    {
        H.Json("a = { x = 1, y = 1 } { y = 2 }").Should().Be("""{"a":{"x":1,"y":2}}""");
    }

    [Fact]
    public void Concatenating_a_string_with_a_list_is_an_error()
    {
        H.ParseError("a = foo [1]").Detail.Should().Contain("Cannot concatenate object or list with a non-object-or-list");
    }

    [Fact]
    public void Unquoted_text_after_a_list_or_object_is_dropped_like_lightbend()
    {
        // Lightbend treats any unquoted string right of a list/object as ignorable whitespace.
        H.Json("a = [1] foo, b = { x = 1 } bar").Should().Be("""{"a":[1],"b":{"x":1}}""");
    }

    [Fact]
    public void Concatenating_a_string_with_an_object_is_an_error()
    {
        H.ParseError("a = \"x\" { b = 1 }").Detail.Should().Contain("Cannot concatenate");
    }

    [Fact]
    public void Concatenating_a_list_with_an_object_is_an_error_unless_the_object_has_numeric_keys()
    {
        H.ParseError("a = [1] { b = 1 }").Detail.Should().Contain("Cannot concatenate");
        H.Json("a = [1] { \"0\" = 2, \"1\" = 3 }").Should().Be("""{"a":[1,2,3]}""");
    }

    [Fact]
    public void Concatenated_substitutions_keep_the_whitespace_between_them()
    {
        H.Json("x = foo, y = bar, a = ${x} ${y}, b = ${x}${y}").Should().Be("""{"a":"foo bar","b":"foobar","x":"foo","y":"bar"}""");
    }

    [Fact]
    public void Substituted_lists_and_objects_concatenate()
    {
        H.Json("l = [1], o = { a = 1 }, x = ${l} [2] ${l}, y = ${o} { b = 2 }")
            .Should().Be("""{"l":[1],"o":{"a":1},"x":[1,2,1],"y":{"a":1,"b":2}}""");
    }

    [Fact]
    public void Whitespace_between_substituted_lists_is_ignored()
    {
        H.Json("l = [1], x = ${l} ${l}").Should().Be("""{"l":[1],"x":[1,1]}""");
    }
}
