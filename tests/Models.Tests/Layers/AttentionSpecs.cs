using CoFUsfl.Models.Layers;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Tests;

namespace CoFUsfl.Models.Tests.Layers;

/// <summary>The FEDS teacher's blocks (window attention: layer norm, matmul, softmax, GELU, permutes) against finite differences.</summary>
public class AttentionSpecs
{
    private static void Check(Func<Tensor, Tensor> f, params long[] shape)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(21);
        var x = torch.randn(shape, g).to(ScalarType.Float64);
        var (analytic, numeric) = GradCheck.Gradients(xs => f(xs[0]), x);
        for (var i = 0; i < analytic[0].Length; i++)
            analytic[0][i].Should().BeApproximately(numeric[0][i], 1e-6 + 1e-5 * Math.Abs(numeric[0][i]), $"element {i}");
    }

    [Fact]
    public void Layer_norm_normalizes_the_last_dimension_and_its_gradient_matches_finite_differences()
    {
        using var norm = new LayerNorm(5);
        norm.to(ScalarType.Float64);
        using (var scope = torch.NewDisposeScope())
        {
            var y = norm.forward(torch.from_array(new double[] { 1, 2, 3, 4, 10, -1, -1, -1, -1, 3 }, 2, 5));
            var v = y.data<double>();
            v.Take(5).Average().Should().BeApproximately(0, 1e-9);
            v.Take(5).Select(a => a * a).Average().Should().BeApproximately(1, 1e-4, "unit variance up to ε");
        }
        Check(norm.forward, 3, 5);
    }

    [Theory]
    [InlineData(4, 8, 8)]
    [InlineData(3, 6, 5)] // not multiples of the window: padded, then cropped back
    public void Window_attention_gradients_match_finite_differences(int window, int h, int w)
    {
        using var g = new Generator(8);
        using var block = new WindowAttentionBlock(8, window, heads: 2, g: g);
        block.to(ScalarType.Float64);
        Check(block.forward, 1, 8, h, w);
        using var scope = torch.NewDisposeScope();
        block.forward(torch.randn([2, 8, h, w], g).to(ScalarType.Float64)).shape.Should().Equal(2, 8, h, w);
    }

    [Fact]
    public void Attention_stays_inside_its_window()
    {
        using var g = new Generator(9);
        using var block = new WindowAttentionBlock(4, 2, heads: 1, g: g);
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var x = torch.randn([1, 4, 4, 4], g);
        var before = block.forward(x).contiguous().data<float>();
        var changed = x.contiguous().data<float>();
        changed[0 * 16 + 3 * 4 + 3] += 5; // channel 0, pixel (3, 3): the bottom-right window
        var after = block.forward(torch.from_array(changed, 1, 4, 4, 4)).contiguous().data<float>();
        for (var c = 0; c < 4; c++)
            for (var p = 0; p < 16; p++)
            {
                var (row, col) = (p / 4, p % 4);
                var inWindow = row >= 2 && col >= 2;
                if (!inWindow) after[c * 16 + p].Should().Be(before[c * 16 + p], "pixels of other windows do not attend to it");
            }
        after[0 * 16 + 2 * 4 + 2].Should().NotBe(before[0 * 16 + 2 * 4 + 2], "its own window does");
    }

    [Fact]
    public void Residual_block_gradient_matches_finite_differences()
    {
        using var g = new Generator(4);
        using var block = new ResidualBlock(3, g);
        block.to(ScalarType.Float64);
        Check(block.forward, 1, 3, 5, 5);
    }
}
