namespace CoFUsfl.Hocon.Tests;

/// <summary>HOCON.md: duplicate keys and object merging; paths as keys.</summary>
public class MergeAndPathTests
{
    [Fact]
    public void Duplicate_object_keys_merge_recursively()
    {
        H.Json("foo : { a : { c : 1 } }\nfoo : { a : { d : 2 } }").Should().Be("""{"foo":{"a":{"c":1,"d":2}}}""");
    }

    [Fact]
    public void Later_non_object_value_wins_over_earlier_value()
    {
        H.Json("a = 1, a = 2").Should().Be("""{"a":2}""");
        H.Json("a = { x = 1 }, a = 2").Should().Be("""{"a":2}""");
        H.Json("a = 2, a = { x = 1 }").Should().Be("""{"a":{"x":1}}""");
    }

    [Fact]
    public void Null_resets_an_object_so_later_fields_do_not_merge_with_earlier_ones()
    {
        H.Json("foo : { a : 1 }\nfoo : null\nfoo : { b : 2 }").Should().Be("""{"foo":{"b":2}}""");
    }

    [Fact]
    public void Non_object_between_objects_stops_the_merge()
    {
        H.Json("foo : { a : 1 }\nfoo : 42\nfoo : { b : 2 }").Should().Be("""{"foo":{"b":2}}""");
    }

    [Fact]
    public void Dotted_key_is_a_path_of_nested_objects()
    {
        H.Json("a.b.c = 1").Should().Be("""{"a":{"b":{"c":1}}}""");
    }

    [Fact]
    public void Path_keys_merge_with_object_keys()
    {
        H.Json("a.b = 1\na { c = 2 }\na.d.e = 3").Should().Be("""{"a":{"b":1,"c":2,"d":{"e":3}}}""");
    }

    [Fact]
    public void Quoted_segment_keeps_its_dots()
    {
        H.Json("\"a.b\".c = 1, x.\"y.z\" = 2").Should().Be("""{"a.b":{"c":1},"x":{"y.z":2}}""");
    }

    [Fact]
    public void Numbers_in_paths_split_on_their_dots()
    {
        H.Json("1.5 = x, 10 = y").Should().Be("""{"1":{"5":"x"},"10":"y"}""");
    }

    [Fact]
    public void Whitespace_inside_an_unquoted_key_is_kept()
    {
        H.Json("a b c = 1").Should().Be("""{"a b c":1}""");
    }

    [Fact]
    public void Keywords_are_plain_keys()
    {
        H.Json("true = 1, null.x = 2").Should().Be("""{"null":{"x":2},"true":1}""");
    }

    [Fact]
    public void Empty_quoted_segment_is_a_key()
    {
        H.Json("\"\".a = 1, b.\"\" = 2").Should().Be("""{"":{"a":1},"b":{"":2}}""");
    }

    [Fact]
    public void Two_adjacent_periods_in_a_path_are_an_error()
    {
        H.ParseError("a..b = 1").Detail.Should().Contain("two adjacent period");
    }

    [Fact]
    public void Leading_or_trailing_period_in_a_path_is_an_error()
    {
        H.ParseError(".a = 1").Detail.Should().Contain("leading, trailing");
        H.ParseError("a. = 1").Detail.Should().Contain("leading, trailing");
    }

    [Fact]
    public void Path_keys_and_objects_are_equivalent()
    {
        H.Json("foo.bar.baz = 1").Should().Be(H.Json("foo { bar { baz = 1 } }"));
    }
}
