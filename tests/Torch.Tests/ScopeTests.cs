using CoFUsfl.Torch.NN;

namespace CoFUsfl.Torch.Tests;

/// <summary>DisposeScope ownership rules.</summary>
public class ScopeTests
{
    [Fact]
    public void Tensors_created_inside_a_scope_are_freed_when_it_is_disposed()
    {
        Tensor a, b;
        using (var scope = torch.NewDisposeScope())
        {
            a = torch.ones([2]);
            b = a + 1.0;
            scope.Count.Should().Be(2);
            a.IsDisposed.Should().BeFalse();
        }
        a.IsDisposed.Should().BeTrue();
        b.IsDisposed.Should().BeTrue();
        DisposeScope.Current.Should().BeNull();
    }

    [Fact]
    public void MoveToOuterDisposeScope_survives_the_inner_scope_and_is_freed_with_the_outer_one()
    {
        Tensor moved, inner;
        using (var outer = torch.NewDisposeScope())
        {
            using (var scope = torch.NewDisposeScope())
            {
                inner = torch.ones([2]);
                moved = (inner * 2.0).MoveToOuterDisposeScope();
                scope.Count.Should().Be(1);
            }
            inner.IsDisposed.Should().BeTrue();
            moved.IsDisposed.Should().BeFalse();
            moved.data<float>().Should().Equal(2, 2);
            outer.Count.Should().Be(1);
        }
        moved.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void MoveToOuterDisposeScope_from_the_outermost_scope_leaves_the_tensor_to_the_caller()
    {
        Tensor t;
        using (torch.NewDisposeScope()) t = torch.ones([1]).MoveToOuterDisposeScope();
        t.IsDisposed.Should().BeFalse();
        t.Dispose();
    }

    [Fact]
    public void DetachFromDisposeScope_survives_every_enclosing_scope()
    {
        Tensor t;
        using (torch.NewDisposeScope())
        using (torch.NewDisposeScope())
            t = torch.ones([3]).DetachFromDisposeScope();
        t.IsDisposed.Should().BeFalse();
        t.sum().item().Should().Be(3);
        t.Dispose();
        t.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void Nested_scopes_free_only_their_own_tensors_and_restore_the_current_scope()
    {
        using var outer = torch.NewDisposeScope();
        var o = torch.ones([1]);
        Tensor i;
        using (var inner = torch.NewDisposeScope())
        {
            DisposeScope.Current.Should().BeSameAs(inner);
            i = o + 1.0;
        }
        DisposeScope.Current.Should().BeSameAs(outer);
        i.IsDisposed.Should().BeTrue();
        o.IsDisposed.Should().BeFalse();
        var later = o * 3.0;
        outer.Count.Should().Be(2);
    }

    [Fact]
    public void Scopes_are_per_thread()
    {
        using var scope = torch.NewDisposeScope();
        Tensor? fromOtherThread = null;
        var th = new Thread(() => fromOtherThread = torch.ones([1]));
        th.Start();
        th.Join();
        scope.Count.Should().Be(0);
        fromOtherThread!.Dispose();
    }

    [Fact]
    public void Module_parameters_created_inside_a_scope_outlive_it()
    {
        Linear lin;
        using (torch.NewDisposeScope()) lin = new Linear(3, 2);
        using var _ = lin;
        lin.weight.IsDisposed.Should().BeFalse();
        lin.bias!.IsDisposed.Should().BeFalse();
        lin.ParameterCount.Should().Be(8);
    }

    [Fact]
    public void Disposing_a_scope_twice_is_harmless()
    {
        var s = torch.NewDisposeScope();
        var t = torch.ones([1]);
        s.Dispose();
        s.Dispose();
        t.IsDisposed.Should().BeTrue();
        DisposeScope.Current.Should().BeNull();
    }
}
