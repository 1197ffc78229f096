namespace CoFUsfl.Hocon.Tests;

/// <summary>HOCON.md: substitutions, self-referential substitutions, +=, cycles, environment variables.</summary>
public class SubstitutionTests
{
    [Fact]
    public void Substitution_copies_a_value_by_path()
    {
        H.Json("a.b = 1, c = ${a.b}, d = ${a}").Should().Be("""{"a":{"b":1},"c":1,"d":{"b":1}}""");
    }

    [Fact]
    public void Substitution_paths_are_absolute_from_the_root()
    {
        H.Json("bar { foo = 42, baz = ${bar.foo} }").Should().Be("""{"bar":{"baz":42,"foo":42}}""");
    }

    [Fact]
    public void Forward_references_resolve()
    {
        H.Json("a = ${b}, b = 2").Should().Be("""{"a":2,"b":2}""");
    }

    [Fact]
    public void Substitution_sees_the_final_merged_value_of_the_path()
    {
        H.Json("a = 1, b = ${a}, a = 2").Should().Be("""{"a":2,"b":2}""");
    }

    [Fact]
    public void Substitution_of_a_number_keeps_its_type()
    {
        H.Json("a = 1.5, b = ${a}, c = 2, d = ${c}").Should().Be("""{"a":1.5,"b":1.5,"c":2,"d":2}""");
    }

    [Fact]
    public void Substitution_inside_a_string_concatenation_uses_the_original_number_text()
    {
        H.Json("a = 1.50, b = v${a}").Should().Be("""{"a":1.5,"b":"v1.50"}""");
    }

    [Fact]
    public void Undefined_required_substitution_is_an_error()
    {
        H.ParseError("a = ${missing}").Detail.Should().Contain("Could not resolve substitution to a value: ${missing}");
    }

    [Fact]
    public void Undefined_optional_substitution_removes_the_field()
    {
        H.Json("a = ${?missing}, b = 1").Should().Be("""{"b":1}""");
    }

    [Fact]
    public void Undefined_optional_substitution_keeps_the_previous_value()
    {
        H.Json("a = 1, a = ${?missing}").Should().Be("""{"a":1}""");
    }

    [Fact]
    public void Undefined_optional_substitution_in_a_list_yields_nothing()
    {
        H.Json("a = [1, ${?missing}, 2]").Should().Be("""{"a":[1,2]}""");
    }

    [Fact]
    public void Undefined_optional_substitution_in_a_concatenation_yields_nothing()
    {
        H.Json("a = foo${?missing}bar").Should().Be("""{"a":"foobar"}""");
    }

    [Fact]
    public void Self_reference_appends_to_the_previous_list()
    {
        H.Json("path = [a], path = ${path} [b]").Should().Be("""{"path":["a","b"]}""");
    }

    [Fact]
    public void Self_reference_looks_back_through_the_whole_merge_stack()
    {
        H.Json("x = [1]\nx = ${x} [2]\nx = ${x} [3]").Should().Be("""{"x":[1,2,3]}""");
    }

    [Fact]
    public void Self_reference_extends_a_string()
    {
        H.Json("path = \"/bin\"\npath = ${path}\":/usr/bin\"").Should().Be("""{"path":"/bin:/usr/bin"}""");
    }

    [Fact]
    public void Self_reference_merges_objects()
    {
        H.Json("foo { a = 1 }\nfoo = ${foo} { b = 2 }").Should().Be("""{"foo":{"a":1,"b":2}}""");
    }

    [Fact]
    public void Self_reference_to_a_nested_path()
    {
        H.Json("foo { a = 1 }\nfoo.a = ${foo.a} 2").Should().Be("""{"foo":{"a":"1 2"}}""");
    }

    [Fact]
    public void Self_reference_through_a_parent_object_sees_the_earlier_value()
    {
        H.Json("foo { a = 1, b = 2 }\nfoo { a = ${foo.b} }").Should().Be("""{"foo":{"a":2,"b":2}}""");
    }

    [Fact]
    public void Self_reference_without_a_previous_value_is_an_error()
    {
        H.ParseError("a = ${a} [1]").Detail.Should().Contain("cycle");
    }

    [Fact]
    public void Optional_self_reference_without_a_previous_value_is_undefined()
    {
        H.Json("a = ${?a} [1]").Should().Be("""{"a":[1]}""");
        H.Json("a = ${?a}, b = 1").Should().Be("""{"b":1}""");
    }

    [Fact]
    public void Plus_equals_appends_to_a_list()
    {
        H.Json("a = [1]\na += 2\na += [3]").Should().Be("""{"a":[1,2,[3]]}""");
    }

    [Fact]
    public void Plus_equals_on_an_undefined_key_starts_a_list()
    {
        H.Json("a += 1").Should().Be("""{"a":[1]}""");
        H.Json("o { a += x }").Should().Be("""{"o":{"a":["x"]}}""");
    }

    [Fact]
    public void Plus_equals_is_a_self_referential_optional_substitution()
    {
        H.Json("a += 1").Should().Be(H.Json("a = ${?a} [1]"));
    }

    [Fact]
    public void Cycles_are_errors()
    {
        H.ParseError("a = ${b}\nb = ${a}").Detail.Should().Contain("cycle");
        H.ParseError("a = ${a}").Detail.Should().Contain("cycle");
        H.ParseError("a { x = ${a} }").Detail.Should().Contain("cycle");
    }

    [Fact]
    public void Optional_substitution_in_a_cycle_is_undefined()
    {
        H.Json("a = ${?b}\nb = ${?a}\nc = 1").Should().Be("""{"c":1}""");
    }

    [Fact]
    public void Self_reference_that_is_not_a_cycle_resolves()
    {
        H.Json("bar { foo = 42, baz = ${bar.foo} }, bar { foo = 43 }").Should().Be("""{"bar":{"baz":43,"foo":43}}""");
    }

    [Fact]
    public void Environment_variable_is_the_fallback_for_an_undefined_path()
    {
        var env = new Dictionary<string, string> { ["HOME"] = "/home/me" };
        H.Json("home = ${HOME}, opt = ${?HOME}", env).Should().Be("""{"home":"/home/me","opt":"/home/me"}""");
    }

    [Fact]
    public void Config_value_takes_precedence_over_the_environment()
    {
        var env = new Dictionary<string, string> { ["HOME"] = "/home/me" };
        H.Json("HOME = mine, home = ${HOME}", env).Should().Be("""{"HOME":"mine","home":"mine"}""");
    }

    [Fact]
    public void Explicit_null_blocks_the_environment_fallback()
    {
        var env = new Dictionary<string, string> { ["HOME"] = "/home/me" };
        H.Json("HOME = null, home = ${HOME}", env).Should().Be("""{"HOME":null,"home":null}""");
    }

    [Fact]
    public void Environment_fallback_can_be_switched_off()
    {
        H.ParseError("a = ${HOME}").Detail.Should().Contain("Could not resolve");
    }

    [Fact]
    public void Environment_variables_match_a_single_path_element_only()
    {
        var env = new Dictionary<string, string> { ["A.B"] = "x" };
        H.Json("a = ${?A.B}, b = ${\"A.B\"}", env).Should().Be("""{"b":"x"}""");
    }

    [Fact]
    public void Environment_values_are_strings()
    {
        var env = new Dictionary<string, string> { ["N"] = "10" };
        H.Json("n = ${N}", env).Should().Be("""{"n":"10"}""");
    }

    [Fact]
    public void Optional_override_from_environment_keeps_the_default_when_unset()
    {
        var env = new Dictionary<string, string> { ["PORT"] = "9000" };
        H.Json("port = 80\nport = ${?PORT}").Should().Be("""{"port":80}""");
        H.Json("port = 80\nport = ${?PORT}", env).Should().Be("""{"port":"9000"}""");
    }

    [Fact]
    public void Substitution_may_point_to_a_null()
    {
        H.Json("a = null, b = ${a}").Should().Be("""{"a":null,"b":null}""");
    }

    [Fact]
    public void Substitution_of_an_object_later_extended()
    {
        H.Json("base { a = 1 }\nderived = ${base} { b = 2 }\nbase.c = 3")
            .Should().Be("""{"base":{"a":1,"c":3},"derived":{"a":1,"b":2,"c":3}}""");
    }

    [Fact]
    public void Substitution_into_a_path_through_a_substituted_object()
    {
        H.Json("a { b { c = 1 } }\nx = ${a}\ny = ${x.b.c}").Should().Be("""{"a":{"b":{"c":1}},"x":{"b":{"c":1}},"y":1}""");
    }

    [Fact]
    public void Quoted_substitution_path_segments()
    {
        H.Json("\"a.b\" = 1, c = ${\"a.b\"}").Should().Be("""{"a.b":1,"c":1}""");
    }

    [Fact]
    public void Substitution_is_not_expanded_inside_quotes()
    {
        H.Json("a = \"${b}\"").Should().Be("""{"a":"${b}"}""");
    }

    [Fact]
    public void Later_substitution_overrides_an_earlier_object()
    {
        H.Json("a { x = 1 }\nb = 5\na = ${b}").Should().Be("""{"a":5,"b":5}""");
    }

    [Fact]
    public void Object_after_a_substitution_merges_with_the_substituted_object()
    {
        H.Json("o { x = 1 }\na = ${o}\na { y = 2 }").Should().Be("""{"a":{"x":1,"y":2},"o":{"x":1}}""");
    }
}
