namespace CoFUsfl.Hocon.Tests;

/// <summary>Unknown keys in a user's config, checked against the reference config.</summary>
public class KeyValidatorTests
{
    private static readonly Config Reference = Config.ParseString("""
        cofusfl {
          seed = 42
          training { local-steps = 5, learning-rate = 0.001 }
          # open: any keys below
          extra-metrics {}
        }
        """, "reference.conf");

    [Fact]
    public void Known_keys_pass()
    {
        H.Parse("cofusfl { seed = 1, training.local-steps = 2 }").FindUnknownKeys(Reference).Should().BeEmpty();
    }

    [Fact]
    public void Unknown_key_is_reported_with_the_nearest_known_key_and_position()
    {
        var unknown = H.Parse("cofusfl {\n  training { local-step = 2 }\n}").FindUnknownKeys(Reference);
        unknown.Should().ContainSingle();
        unknown[0].Path.Should().Be("cofusfl.training.local-step");
        unknown[0].Suggestion.Should().Be("cofusfl.training.local-steps");
        (unknown[0].Origin.Line, unknown[0].Origin.Column).Should().Be((2, 14));
        unknown[0].Message.Should().Be("unknown key 'cofusfl.training.local-step' (did you mean 'cofusfl.training.local-steps'?)");
    }

    [Fact]
    public void Unknown_key_in_a_path_expression_points_at_that_segment()
    {
        var unknown = H.Parse("cofusfl.seed = 1\ncofusfl.trainin.local-steps = 2").FindUnknownKeys(Reference);
        unknown.Should().ContainSingle().Which.Origin.Should().Be(new HoconOrigin("test.conf", 2, 9));
        unknown[0].Suggestion.Should().Be("cofusfl.training");
    }

    [Fact]
    public void Far_away_unknown_key_has_no_suggestion()
    {
        var unknown = H.Parse("something-completely-different = 1").FindUnknownKeys(Reference);
        unknown.Should().ContainSingle().Which.Suggestion.Should().BeNull();
    }

    [Fact]
    public void Empty_object_in_the_reference_is_an_open_section()
    {
        H.Parse("cofusfl.extra-metrics { psnr = true, ms-ssim.window = 11 }").FindUnknownKeys(Reference).Should().BeEmpty();
    }

    [Fact]
    public void Reference_leaf_accepts_any_user_value()
    {
        H.Parse("cofusfl.seed { a = 1 }").FindUnknownKeys(Reference).Should().BeEmpty();
    }
}
