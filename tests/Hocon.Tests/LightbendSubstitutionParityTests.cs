namespace CoFUsfl.Hocon.Tests;

/// <summary>Cases from Lightbend config's ConfigSubstitutionTest, with the reference implementation's results.</summary>
public class LightbendSubstitutionParityTests
{
    [Fact]
    public void Null_in_a_concatenation_stays_the_text_null()
    {
        H.Resolved("""{ "a" : null foo bar }""").GetString("a").Should().Be("null foo bar");
        H.Resolved("""x = null, a = start<${x}>end""").GetString("a").Should().Be("start<null>end");
    }

    [Fact]
    public void Missing_optional_values_in_lists_and_objects_vanish()
    {
        H.Json("a : [ ${?missing}, ${?also.missing} ]").Should().Be("""{"a":[]}""");
        H.Json("a : ${?missing}, b : ${?also.missing}, c : ${?b}, d : ${?c}").Should().Be("{}");
    }

    [Fact]
    public void Chains_of_substitutions_resolve()
    {
        H.Json("""{ "foo" : ${bar}, "bar" : ${a.b.c}, "a" : { "b" : { "c" : 57 } } }""")
            .Should().Be("""{"a":{"b":{"c":57}},"bar":57,"foo":57}""");
    }

    [Fact]
    public void Cycles_through_paths_are_errors_even_when_looked_up_optionally()
    {
        H.ParseError("""{ "foo" : ${bar}, "bar" : ${a.b.c}, "a" : { "b" : { "c" : ${foo} } } }""").Detail.Should().Contain("cycle");
        H.ParseError("a:${b},b:${c},c:${d},d:${a}").Detail.Should().Contain("cycle");
    }

    [Fact]
    public void Cycles_made_only_of_optional_links_act_like_undefined()
    {
        H.Json("""{ "foo" : ${?bar}, "bar" : ${?a.b.c}, "a" : { "b" : { "c" : ${?foo} } } }""").Should().Be("""{"a":{"b":{}}}""");
    }

    [Fact]
    public void Traversing_an_object_does_not_resolve_its_unrelated_fields()
    {
        H.Json("""{ "foo" : ${a.b.c}, "a" : { "b" : { "c" : 42, "cycle" : ${foo} }, "cycle" : ${foo} } }""")
            .Should().Be("""{"a":{"b":{"c":42,"cycle":42},"cycle":42},"foo":42}""");
    }

    [Fact]
    public void Hidden_undefined_or_circular_substitution_does_not_matter()
    {
        H.Json("a=${nonexistent},a=42").Should().Be("""{"a":42}""");
        H.Json("a=${a},a=42").Should().Be("""{"a":42}""");
    }

    [Fact]
    public void Object_does_not_hide_an_undefined_substitution_below_it()
    {
        H.ParseError("a=${nonexistent},a={ b : 42 }").Detail.Should().Contain("Could not resolve");
    }

    [Fact]
    public void Substitution_into_a_delayed_merge_object_with_a_known_value()
    {
        var c = H.Resolved("defaults { a = 1, b = 2 }\nitem1 = ${defaults}\nitem1.b = 3\nitem2.b = ${item1.b}");
        c.GetInt("item1.b").Should().Be(3);
        c.GetInt("item2.b").Should().Be(3);
    }

    [Fact]
    public void Substitution_into_a_delayed_merge_object_with_an_object_value()
    {
        var c = H.Resolved("defaults { a = 1, b = 2 }\nitem1 = ${defaults}\nitem1.b = { c : 43 }\nitem2.b = ${item1.b}");
        c.GetInt("item1.b.c").Should().Be(43);
        c.GetInt("item2.b.c").Should().Be(43);
    }

    [Fact]
    public void Self_reference_through_a_delayed_merge_only_looks_back()
    {
        var c = H.Resolved("item1.b.c = 100\ndefaults { a = ${item1.b.c}, b = 2 }\nitem1 = ${defaults}\nitem1.b = { c : 43 }\nitem2.b = ${item1.b}");
        c.GetObject("item1.b").ToJson().Should().Be("""{"c":43}""");
        c.GetInt("item2.b.c").Should().Be(43);
        c.GetInt("defaults.a").Should().Be(100);
    }

    [Fact]
    public void Substitution_replacing_an_earlier_object_in_a_delayed_merge()
    {
        var c = H.Resolved("defaults { a = 1, b = 2 }\nitem1.b = 7\nitem1 = ${defaults}\nitem2.b = ${item1.b}");
        c.GetInt("item1.b").Should().Be(2);
        c.GetInt("item2.b").Should().Be(2);
    }

    [Fact]
    public void Tricky_cycle_through_a_delayed_merge_resolves_by_looking_back()
    {
        // Checked against typesafe-config 1.3.1: defaults is first resolved while item1 looks back at {b = 7}.
        var c = H.Resolved("defaults { a = ${item1.b}, b = 2 }\nitem1.b = 7\nitem1 = ${defaults}\nitem2.b = ${item1.b}");
        c.ToJson().Should().Be("""{"defaults":{"a":7,"b":2},"item1":{"a":7,"b":2},"item2":{"b":2}}""");
    }

    [Fact]
    public void Deep_delayed_merge_stack()
    {
        var c = H.Resolved("""
            z = 15
            defaults-defaults-defaults {
              m = ${z}
              n.o.p = ${z}
            }
            defaults-defaults { x = 10, y = 11, asdf = ${z} }
            defaults { a = 1, b = 2 }
            defaults-alias = ${defaults}
            item1 = 345
            item1 = ${?NONEXISTENT}
            item1 = ${defaults-defaults-defaults}
            item1 = {}
            item1 = ${defaults-defaults}
            item1 = ${defaults-alias}
            item1 = ${defaults}
            item1.b = { c : 43 }
            item1.xyz = 101
            item2.b = ${item1.b}
            """);
        c.GetObject("item1.b").ToJson().Should().Be("""{"c":43}""");
        c.GetInt("item2.b.c").Should().Be(43);
        c.GetInt("item1.n.o.p").Should().Be(15);
        c.GetInt("item1.xyz").Should().Be(101);
    }

    [Fact]
    public void Delayed_merge_objects_that_refer_to_each_other()
    {
        var c = H.Resolved("""
            defaults { a = 1, b = 2 }
            item1 = ${defaults}
            item1.c = ${item2.d}
            item1.x = ${item2.y}
            item2 = ${defaults}
            item2.d = ${item1.a}
            item2.y = 15
            """);
        c.GetInt("item1.c").Should().Be(1);
        c.GetInt("item2.d").Should().Be(1);
        c.GetInt("item1.x").Should().Be(15);
    }

    [Fact]
    public void Plain_objects_that_refer_to_each_other()
    {
        var c = H.Resolved("""
            item1.a = 10
            item1.b = ${item2.d}
            item2.c = 12
            item2.d = 14
            item2.e = ${item1.a}
            item2.f = ${item1.b}
            item2.g = ${item2.f}
            """);
        c.GetInt("item1.b").Should().Be(14);
        c.GetInt("item2.e").Should().Be(10);
        c.GetInt("item2.f").Should().Be(14);
        c.GetInt("item2.g").Should().Be(14);
    }

    [Fact]
    public void Complex_resolve_through_objects_lists_and_quoted_keys()
    {
        var c = H.Resolved("""
            {
                "foo" : ${bar},
                "bar" : ${a.b.c},
                "a" : { "b" : { "c" : 57, "d" : ${foo}, "e" : { "f" : ${foo} } } },
                "objA" : ${a},
                "objB" : ${a.b},
                "objE" : ${a.b.e},
                "foo.bar" : 37,
                "arr" : [ ${foo}, ${a.b.c}, ${"foo.bar"}, ${objB.d}, ${objA.b.e.f}, ${objE.f} ],
                "ptrToArr" : ${arr},
                "x" : { "y" : { "ptrToPtrToArr" : ${ptrToArr} } }
            }
            """);
        c.GetIntList("arr").Should().Equal(57, 57, 37, 57, 57, 57);
        c.GetIntList("x.y.ptrToPtrToArr").Should().Equal(57, 57, 37, 57, 57, 57);
        c.GetInt("objB.d").Should().Be(57);
    }
}
