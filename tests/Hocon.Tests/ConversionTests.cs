namespace CoFUsfl.Hocon.Tests;

/// <summary>HOCON.md: conversions (numeric-keyed objects to lists, strings/numbers/booleans), durations, sizes; typed getters.</summary>
public class ConversionTests
{
    [Fact]
    public void Object_with_numeric_keys_reads_as_a_list_sorted_by_index()
    {
        var c = H.Resolved("a { 2 = c, 0 = a, 1 = b, x = ignored }");
        c.GetStringList("a").Should().Equal("a", "b", "c");
    }

    [Fact]
    public void Numbers_and_booleans_read_as_strings()
    {
        var c = H.Resolved("a = 1.50, b = true, c = 10");
        c.GetString("a").Should().Be("1.50");
        c.GetString("b").Should().Be("true");
        c.GetString("c").Should().Be("10");
    }

    [Fact]
    public void Numeric_strings_read_as_numbers()
    {
        var c = H.Resolved("a = \"42\", b = \"3.5\", c = .33");
        c.GetInt("a").Should().Be(42);
        c.GetDouble("b").Should().Be(3.5);
        c.GetDouble("c").Should().Be(0.33);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("yes", true)]
    [InlineData("on", true)]
    [InlineData("\"true\"", true)]
    [InlineData("false", false)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    public void Booleans_accept_yes_no_on_off(string text, bool expected)
    {
        H.Resolved($"a = {text}").GetBoolean("a").Should().Be(expected);
    }

    [Fact]
    public void Non_boolean_string_is_a_wrong_type_error_with_the_path()
    {
        var e = H.Error(() => H.Resolved("x {\n a = maybe\n}").GetBoolean("x.a"));
        e.Detail.Should().Contain("'x.a'").And.Contain("BOOLEAN");
        e.Line.Should().Be(2);
    }

    [Theory]
    [InlineData("1s", 1_000)]
    [InlineData("10 s", 10_000)]
    [InlineData("5ms", 5)]
    [InlineData("1000", 1_000)]
    [InlineData("0.5s", 500)]
    [InlineData("2 minutes", 120_000)]
    [InlineData("1 h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1 milli", 1)]
    [InlineData("2 seconds", 2_000)]
    [InlineData("1 second", 1_000)]
    public void Durations_parse_with_units_and_bare_numbers_are_milliseconds(string text, long millis)
    {
        H.Resolved($"d = {text}").GetDuration("d").Should().Be(TimeSpan.FromMilliseconds(millis));
    }

    [Fact]
    public void Sub_millisecond_durations_keep_nanoseconds()
    {
        var c = H.Resolved("a = 2000 micros, b = 4878955355435272204ns, c = \"+4878955355435272204ns\", d = -4878955355435272204ns, e = 300ns");
        c.GetDurationNanos("a").Should().Be(2_000_000);
        c.GetDurationNanos("b").Should().Be(4878955355435272204);
        c.GetDurationNanos("c").Should().Be(4878955355435272204);
        c.GetDurationNanos("d").Should().Be(-4878955355435272204);
        c.GetDurationNanos("e").Should().Be(300);
    }

    [Fact]
    public void Unknown_duration_unit_is_an_error()
    {
        H.Error(() => H.Resolved("d = 10 parsecs").GetDuration("d")).Detail.Should().Contain("time unit");
    }

    [Theory]
    [InlineData("512", 512)]
    [InlineData("10B", 10)]
    [InlineData("1 byte", 1)]
    [InlineData("10kB", 10_000)]
    [InlineData("10 kilobytes", 10_000)]
    [InlineData("4KiB", 4096)]
    [InlineData("4K", 4096)]
    [InlineData("4k", 4096)]
    [InlineData("1M", 1_048_576)]
    [InlineData("1MB", 1_000_000)]
    [InlineData("0.5M", 524_288)]
    [InlineData("1 GiB", 1_073_741_824)]
    [InlineData("2 gibibytes", 2_147_483_648)]
    [InlineData("1TB", 1_000_000_000_000)]
    public void Sizes_parse_decimal_and_binary_units(string text, long bytes)
    {
        H.Resolved($"s = {text}").GetBytes("s").Should().Be(bytes);
    }

    [Fact]
    public void Size_too_large_for_a_long_is_an_error()
    {
        H.Error(() => H.Resolved("s = 100 EiB").GetBytes("s")).Detail.Should().Contain("out of range");
    }

    [Fact]
    public void Typed_getters_read_by_path()
    {
        var c = H.Resolved("a { i = 1, l = 10000000000, d = 2.5, s = hi, b = on, li = [1,2], ld = [1.5, 2], ls = [x, 1], lb = [true, no], o { x = 1 }, lo = [{ y = 1 }, { y = 2 }] }");
        c.GetInt("a.i").Should().Be(1);
        c.GetLong("a.l").Should().Be(10_000_000_000);
        c.GetDouble("a.d").Should().Be(2.5);
        c.GetString("a.s").Should().Be("hi");
        c.GetBoolean("a.b").Should().BeTrue();
        c.GetIntList("a.li").Should().Equal(1, 2);
        c.GetDoubleList("a.ld").Should().Equal(1.5, 2.0);
        c.GetStringList("a.ls").Should().Equal("x", "1");
        c.GetBooleanList("a.lb").Should().Equal(true, false);
        c.GetConfig("a.o").GetInt("x").Should().Be(1);
        c.GetConfigList("a.lo").Select(x => x.GetInt("y")).Should().Equal(1, 2);
    }

    [Fact]
    public void Int_getter_rejects_out_of_range_longs()
    {
        H.Error(() => H.Resolved("a = 10000000000").GetInt("a")).Detail.Should().Contain("out-of-range");
    }

    [Fact]
    public void Has_path_is_false_for_null_but_has_path_or_null_is_true()
    {
        var c = H.Resolved("a = null, b = 1");
        c.HasPath("a").Should().BeFalse();
        c.HasPathOrNull("a").Should().BeTrue();
        c.IsNull("a").Should().BeTrue();
        c.HasPath("b").Should().BeTrue();
        c.HasPath("nope").Should().BeFalse();
        c.HasPath("b.c").Should().BeFalse();
    }

    [Fact]
    public void Missing_key_error_names_the_full_path()
    {
        H.Error(() => H.Resolved("a { b = 1 }").GetConfig("a").GetInt("c")).Detail.Should().Contain("'a.c'");
    }

    [Fact]
    public void Null_value_in_a_getter_is_an_error()
    {
        H.Error(() => H.Resolved("a = null").GetInt("a")).Detail.Should().Contain("null");
    }

    [Fact]
    public void With_fallback_puts_application_config_over_reference()
    {
        var reference = H.Parse("app { a = 1, b = 2, o { x = 1 } }");
        var app = H.Parse("app { b = 3, o { y = 2 } }");
        app.WithFallback(reference).Resolve(H.NoEnv).ToJson().Should().Be("""{"app":{"a":1,"b":3,"o":{"x":1,"y":2}}}""");
    }

    [Fact]
    public void Substitutions_in_the_reference_see_application_overrides()
    {
        var reference = H.Parse("a = 1, b = ${a}");
        var app = H.Parse("a = 2");
        app.WithFallback(reference).Resolve(H.NoEnv).GetInt("b").Should().Be(2);
    }

    [Fact]
    public void With_value_replaces_a_path()
    {
        var c = H.Resolved("a { b = 1, c = 2 }").WithValue("a.b", HoconNumber.FromLong(HoconOrigin.Synthetic("code"), 5));
        c.ToJson().Should().Be("""{"a":{"b":5,"c":2}}""");
    }

    [Fact]
    public void Getter_on_unresolved_config_asks_for_resolve()
    {
        H.Error(() => H.Parse("a = ${b}, b = 1").GetInt("a")).Detail.Should().Contain("Resolve");
    }
}

/// <summary>Single values, as given on the command line with -D path=value.</summary>
public class ParseValueTests
{
    [Fact]
    public void A_value_may_be_any_hocon_value_or_concatenation()
    {
        Config.ParseValue("[1, 2]").ToJson().Should().Be("[1,2]");
        Config.ParseValue("foo bar").ToJson().Should().Be("\"foo bar\"");
        Config.ParseValue("{ a = 1 }").ToJson().Should().Be("""{"a":1}""");
    }

    [Fact]
    public void Overrides_merge_before_resolution_so_substitutions_see_them()
    {
        var c = H.Parse("a = 1, b = ${a}").WithOverride("a", Config.ParseValue("5")).Resolve(H.NoEnv);
        c.ToJson().Should().Be("""{"a":5,"b":5}""");
    }

    [Fact]
    public void Errors_in_a_value_report_columns_within_the_whole_text()
    {
        var e = H.Error(() => Config.ParseValue("\"bad\\q\"", "-D x=\"bad\\q\"", columnOffset: 2));
        e.Column.Should().Be(7);
    }

    [Fact]
    public void Trailing_tokens_after_a_value_are_an_error()
    {
        H.Error(() => Config.ParseValue("1 ]")).Detail.Should().Contain("Expecting end of value");
    }
}

/// <summary>HOCON.md: period format.</summary>
public class PeriodTests
{
    [Theory]
    [InlineData("10", 0, 0, 10)]
    [InlineData("10 d", 0, 0, 10)]
    [InlineData("1 day", 0, 0, 1)]
    [InlineData("2w", 0, 0, 14)]
    [InlineData("3 m", 0, 3, 0)]
    [InlineData("3 mo", 0, 3, 0)]
    [InlineData("1 month", 0, 1, 0)]
    [InlineData("2 years", 2, 0, 0)]
    [InlineData("1y", 1, 0, 0)]
    public void Periods_parse_with_date_units_and_bare_numbers_are_days(string text, int years, int months, int days)
    {
        H.Resolved($"p = {text}").GetPeriod("p").Should().Be(new HoconPeriod(years, months, days));
    }

    [Fact]
    public void Period_with_a_time_unit_is_an_error()
    {
        H.Error(() => H.Resolved("p = 5 s").GetPeriod("p")).Detail.Should().Contain("time unit");
    }
}
