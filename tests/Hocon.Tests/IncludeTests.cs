namespace CoFUsfl.Hocon.Tests;

/// <summary>HOCON.md: includes (syntax, semantics, file formats, relative paths, substitutions, cycles).</summary>
public class IncludeTests
{
    [Fact]
    public void Include_merges_the_file_at_the_point_of_inclusion()
    {
        using var dir = new H.TempDir();
        dir.Write("b.conf", "x = 1\ny = 2");
        var main = dir.Write("a.conf", "x = 0\ninclude \"b.conf\"\ny = 3");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"x":1,"y":3}""");
    }

    [Fact]
    public void Include_inside_an_object_nests_the_included_keys()
    {
        using var dir = new H.TempDir();
        dir.Write("b.conf", "x = 1");
        var main = dir.Write("a.conf", "foo { include \"b.conf\" }\nbar.baz { include \"b.conf\" }");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"bar":{"baz":{"x":1}},"foo":{"x":1}}""");
    }

    [Fact]
    public void Include_is_relative_to_the_including_file()
    {
        using var dir = new H.TempDir();
        dir.Write("sub/c.conf", "c = 3");
        dir.Write("sub/b.conf", "include \"c.conf\"\nb = 2");
        var main = dir.Write("a.conf", "include \"sub/b.conf\"");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"b":2,"c":3}""");
    }

    [Fact]
    public void Include_file_and_required_syntax()
    {
        using var dir = new H.TempDir();
        dir.Write("b.conf", "b = 1");
        var main = dir.Write("a.conf", "include file(\"b.conf\")\ninclude required(\"b.conf\")\ninclude required(file(\"b.conf\"))\ninclude required( file( \"b.conf\" ) )");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"b":1}""");
    }

    [Fact]
    public void Missing_non_required_include_is_silently_ignored()
    {
        using var dir = new H.TempDir();
        var main = dir.Write("a.conf", "include \"nope.conf\"\ninclude file(\"nope\")\na = 1");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"a":1}""");
    }

    [Fact]
    public void Missing_required_include_is_an_error_at_the_include()
    {
        using var dir = new H.TempDir();
        var main = dir.Write("a.conf", "a = 1\ninclude required(\"nope.conf\")");
        var e = H.Error(() => Config.ParseFile(main));
        e.Line.Should().Be(2);
        e.Column.Should().Be(18);
        e.File.Should().Be(main);
    }

    [Fact]
    public void Extension_less_include_merges_conf_over_json_over_properties()
    {
        using var dir = new H.TempDir();
        dir.Write("b.conf", "a = conf");
        dir.Write("b.json", """{ "a": "json", "b": "json" }""");
        dir.Write("b.properties", "a=props\nb=props\nc=props");
        var main = dir.Write("main.conf", "include \"b\"");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"a":"conf","b":"json","c":"props"}""");
    }

    [Fact]
    public void Properties_include_creates_nested_paths()
    {
        using var dir = new H.TempDir();
        dir.Write("p.properties", "# comment\na.b.c=1\na.b.d : two words\n! bang comment\ne = x \\\n  y");
        var main = dir.Write("main.conf", "include \"p.properties\"");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"a":{"b":{"c":"1","d":"two words"}},"e":"x y"}""");
    }

    [Fact]
    public void Json_include_is_parsed_strictly()
    {
        using var dir = new H.TempDir();
        dir.Write("bad.json", "{ a: 1 }");
        var main = dir.Write("main.conf", "include \"bad.json\"");
        H.Error(() => Config.ParseFile(main)).Detail.Should().Contain("JSON");
    }

    [Fact]
    public void Substitutions_in_included_files_are_relative_to_the_include_point()
    {
        using var dir = new H.TempDir();
        dir.Write("b.conf", "x = 1\ny = ${x}");
        var main = dir.Write("a.conf", "foo { include \"b.conf\" }");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"foo":{"x":1,"y":1}}""");
    }

    [Fact]
    public void Substitutions_in_included_files_fall_back_to_the_root()
    {
        using var dir = new H.TempDir();
        dir.Write("b.conf", "y = ${top}");
        var main = dir.Write("a.conf", "top = 5\nfoo { include \"b.conf\" }");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"foo":{"y":5},"top":5}""");
    }

    [Fact]
    public void Included_values_can_be_overridden_and_substituted_by_the_includer()
    {
        using var dir = new H.TempDir();
        dir.Write("b.conf", "x = 1\ny = ${x}");
        var main = dir.Write("a.conf", "foo { include \"b.conf\" }\nfoo.x = 2");
        Config.ParseFile(main).Resolve(H.NoEnv).ToJson().Should().Be("""{"foo":{"x":2,"y":2}}""");
    }

    [Fact]
    public void Include_cycles_are_errors()
    {
        using var dir = new H.TempDir();
        dir.Write("b.conf", "include \"a.conf\"");
        var main = dir.Write("a.conf", "include \"b.conf\"");
        H.Error(() => Config.ParseFile(main)).Detail.Should().Contain("include cycle");
    }

    [Fact]
    public void Include_keyword_must_be_followed_by_a_quoted_string()
    {
        H.ParseError("include foo").Detail.Should().Contain("include");
    }

    [Fact]
    public void Quoted_include_is_a_key()
    {
        H.Json("\"include\" = 1").Should().Be("""{"include":1}""");
    }

    [Fact]
    public void Include_with_substitutions_inside_a_list_is_an_error()
    {
        using var dir = new H.TempDir();
        dir.Write("b.conf", "x = ${y}");
        var main = dir.Write("a.conf", "a = [ { include \"b.conf\" } ]");
        H.Error(() => Config.ParseFile(main)).Detail.Should().Contain("list");
    }

    [Fact]
    public void Top_level_json_file_is_parsed_as_json()
    {
        using var dir = new H.TempDir();
        var f = dir.Write("a.json", """{ "a": [1, 2.5, "x"], "b": null }""");
        Config.ParseFile(f).Resolve(H.NoEnv).ToJson().Should().Be("""{"a":[1,2.5,"x"],"b":null}""");
    }
}
