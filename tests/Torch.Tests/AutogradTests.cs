using CoFUsfl.Torch.NN;

namespace CoFUsfl.Torch.Tests;

/// <summary>autograd.backward as the split protocol uses it, and gradient-mode switches.</summary>
public class AutogradTests
{
    [Fact]
    public void Backward_from_a_non_scalar_root_with_an_external_gradient_plus_a_scalar_root_sums_both_contributions()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Normal(1, 2, 3).requires_grad_();
        var y = x * x;                // non-scalar root: its gradient comes from outside
        var z = x.sum() * 3.0;        // scalar root: implicit gradient 1
        var g = Inputs.Normal(2, 2, 3);
        autograd.backward([y, z], [g, null]);
        var expected = (2.0 * x.detach() * g + 3.0).data<double>();
        x.grad!.data<double>().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering().Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
    }

    [Fact]
    public void Split_backward_with_the_clients_gradient_equals_backward_through_the_unsplit_graph()
    {
        using var scope = torch.NewDisposeScope();
        using var gen = new Generator(3);
        using var head = new Conv2d(2, 4, 3, padding: 1, generator: gen);
        using var tail = new Conv2d(4, 2, 3, padding: 1, generator: gen);
        var x = torch.randn([1, 2, 5, 5], gen);

        // Whole graph on one side: distortion + a rate term on the cut activation.
        var f = head.forward(x);
        var loss = F.mse_loss(tail.forward(f), x) + f.abs().mean() * 0.01;
        loss.backward();
        var whole = head.weight.grad!.data<float>();
        var wholeTail = tail.weight.grad!.data<float>();
        head.zero_grad();
        tail.zero_grad();

        // Split: the server keeps f and its rate term, the client gets a detached copy and returns ∂L/∂f.
        var fs = head.forward(x);
        var rate = fs.abs().mean() * 0.01;
        var fc = fs.detach().requires_grad_();
        F.mse_loss(tail.forward(fc), x).backward();
        autograd.backward([fs, rate], [fc.grad!, null]);

        head.weight.grad!.data<float>().Zip(whole).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 1e-6f + 1e-5f * Math.Abs(p.Second));
        tail.weight.grad!.data<float>().Should().Equal(wholeTail);
    }

    [Fact]
    public void Backward_of_a_non_scalar_root_without_a_gradient_is_a_TorchException()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Normal(1, 2, 3).requires_grad_();
        var act = () => (x * 2.0).backward();
        act.Should().Throw<TorchException>().WithMessage("*grad can be implicitly created only for scalar outputs*");
    }

    [Fact]
    public void Backward_with_mismatched_root_and_gradient_counts_is_rejected_before_native_code()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Normal(1, 2).requires_grad_();
        var act = () => autograd.backward([x * 2.0, x.sum()], [null]);
        act.Should().Throw<ArgumentException>().WithMessage("*2 roots but 1 gradients*");
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls_until_cleared()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Of([1.0, 2.0]).requires_grad_();
        (x * 3.0).sum().backward();
        (x * 3.0).sum().backward();
        x.grad!.data<double>().Should().Equal(6, 6);
        x.grad = null;
        x.grad.Should().BeNull();
    }

    [Fact]
    public void Retain_graph_allows_a_second_backward_through_the_same_graph()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Of([1.0, 2.0]).requires_grad_();
        var y = x.exp().sum();
        y.backward(retainGraph: true);
        y.backward();
        x.grad!.data<double>().Should().Equal(2 * Math.Exp(1), 2 * Math.Exp(2));
        var z = x.exp().sum();
        z.backward();
        var again = () => z.backward();
        again.Should().Throw<TorchException>().WithMessage("*second time*");
    }

    [Fact]
    public void Retain_grad_keeps_the_gradient_of_a_non_leaf()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Of([1.0, 2.0]).requires_grad_();
        var h = x * 2.0;
        h.is_leaf.Should().BeFalse();
        h.retain_grad();
        (h * h).sum().backward();
        h.grad!.data<double>().Should().Equal(4, 8);
    }

    [Fact]
    public void No_grad_disables_recording_and_restores_the_previous_mode_even_when_nested()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Of([1.0, 2.0]).requires_grad_();
        torch.is_grad_enabled().Should().BeTrue();
        using (torch.no_grad())
        {
            torch.is_grad_enabled().Should().BeFalse();
            (x * 2.0).requires_grad.Should().BeFalse();
            using (torch.no_grad()) torch.is_grad_enabled().Should().BeFalse();
            torch.is_grad_enabled().Should().BeFalse("closing an inner no_grad must not re-enable grad inside the outer one");
        }
        torch.is_grad_enabled().Should().BeTrue();
        (x * 2.0).requires_grad.Should().BeTrue();
    }

    [Fact]
    public void Detach_cuts_the_graph_and_shares_the_values()
    {
        using var scope = torch.NewDisposeScope();
        var x = Inputs.Of([1.0, 2.0]).requires_grad_();
        var d = (x * 2.0).detach();
        d.requires_grad.Should().BeFalse();
        d.data<double>().Should().Equal(2, 4);
    }
}
