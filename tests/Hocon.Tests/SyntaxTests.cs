namespace CoFUsfl.Hocon.Tests;

/// <summary>HOCON.md: JSON superset, comments, omitted root braces, key-value separators, commas, whitespace.</summary>
public class SyntaxTests
{
    [Fact]
    public void Valid_json_parses_to_the_same_tree()
    {
        H.Json("""{"a": 1, "b": [true, false, null], "c": {"d": "e"}, "f": 1.5}""")
            .Should().Be("""{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":1.5}""");
    }

    [Fact]
    public void Double_slash_and_hash_start_comments_to_end_of_line()
    {
        H.Json("a = 1 // one\n# whole line\nb = 2 # two\nc = \"not // a comment\"")
            .Should().Be("""{"a":1,"b":2,"c":"not // a comment"}""");
    }

    [Fact]
    public void Root_braces_may_be_omitted()
    {
        H.Json("a = 1\nb = 2").Should().Be("""{"a":1,"b":2}""");
    }

    [Fact]
    public void Empty_file_is_an_empty_object()
    {
        H.Json("").Should().Be("{}");
        H.Json("# only a comment\n\n").Should().Be("{}");
    }

    [Fact]
    public void Colon_and_equals_are_both_key_value_separators()
    {
        H.Json("a : 1, b = 2").Should().Be("""{"a":1,"b":2}""");
    }

    [Fact]
    public void Separator_may_be_omitted_before_an_open_brace()
    {
        H.Json("a { b = 1 }").Should().Be("""{"a":{"b":1}}""");
    }

    [Fact]
    public void Separator_may_not_be_omitted_before_other_values()
    {
        H.ParseError("a 1").Detail.Should().Contain("may not be followed by token");
    }

    [Fact]
    public void Newline_separates_fields_like_a_comma()
    {
        H.Json("a { x = 1\n y = 2\n }").Should().Be("""{"a":{"x":1,"y":2}}""");
    }

    [Fact]
    public void Newline_separates_list_elements_like_a_comma()
    {
        H.Json("a = [\n 1\n 2\n ,3\n]").Should().Be("""{"a":[1,2,3]}""");
    }

    [Fact]
    public void One_trailing_comma_is_allowed_in_lists_and_objects()
    {
        H.Json("a = [1, 2,], b = { c = 1, }").Should().Be("""{"a":[1,2],"b":{"c":1}}""");
    }

    [Fact]
    public void Two_trailing_commas_are_an_error()
    {
        H.ParseError("a = [1, 2,,]").Detail.Should().Contain("List should have had new element after a comma");
    }

    [Fact]
    public void Value_may_start_on_the_line_after_the_separator()
    {
        H.Json("a =\n  1").Should().Be("""{"a":1}""");
    }

    [Fact]
    public void Unicode_whitespace_and_bom_are_whitespace()
    {
        H.Json("\uFEFFa\u00A0=\u20031\u2028").Should().Be("""{"a":1}""");
    }

    [Fact]
    public void Two_values_on_one_line_without_separator_are_an_error()
    {
        H.ParseError("a = 1 b = 2").Detail.Should().Contain("Expecting end of input or a comma");
    }

    [Fact]
    public void Numbers_keep_int_long_and_double_kinds()
    {
        H.Json("a = 10, b = 10000000000, e = -0.5, f = 1E-5, g = 12345678.9, h = 1e20")
            .Should().Be("""{"a":10,"b":10000000000,"e":-0.5,"f":1.0E-5,"g":1.23456789E7,"h":1.0E20}""");
    }

    [Fact]
    public void Whole_decimal_numbers_render_as_integers_but_keep_their_text_like_lightbend()
    {
        var c = H.Resolved("c = 1.0, d = 1e3, z = -0.0");
        c.ToJson().Should().Be("""{"c":1,"d":1000,"z":0}""");
        c.GetString("c").Should().Be("1.0");
        c.GetDouble("d").Should().Be(1000.0);
    }

    [Fact]
    public void An_integer_too_large_for_a_long_is_a_string()
    {
        H.Json("a = 99999999999999999999").Should().Be("""{"a":"99999999999999999999"}""");
    }

    [Fact]
    public void Text_that_starts_like_a_number_but_is_not_one_is_a_string()
    {
        H.Json("a = 1.2.3, b = 2024-01-01, c = 10s").Should().Be("""{"a":"1.2.3","b":"2024-01-01","c":"10s"}""");
    }

    [Fact]
    public void Root_may_be_braced()
    {
        H.Json("{ a = 1 }\n").Should().Be("""{"a":1}""");
    }

    [Fact]
    public void Tokens_after_the_root_object_are_an_error()
    {
        H.ParseError("{ a = 1 } b").Detail.Should().Contain("trailing tokens");
    }

    [Fact]
    public void Unbalanced_close_brace_is_an_error()
    {
        H.ParseError("a = 1\n}").Detail.Should().Contain("unbalanced close brace");
    }

    [Fact]
    public void Quoted_strings_use_json_escapes()
    {
        H.Json("""a = "tab\there \u00e9 \"q\" \\ \/" """).Should().Be("{\"a\":\"tab\\there \u00e9 \\\"q\\\" \\\\ /\"}");
    }

    [Fact]
    public void Keys_and_values_render_sorted_with_numeric_keys_first()
    {
        H.Json("b = 1, a = 2, 10 = x, 9 = y, B = 3").Should().Be("""{"9":"y","10":"x","B":3,"a":2,"b":1}""");
    }
}
