namespace CoFUsfl.Torch.Tests;

/// <summary>Bad inputs raise clear exceptions (libtorch's own message where it is libtorch's check); the process survives.</summary>
public class ErrorTests
{
    [Fact]
    public void Conv2d_with_mismatched_channels_throws_libtorchs_message_naming_the_sizes_and_ops_keep_working()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([1, 3, 8, 8]);
        var w = torch.randn([4, 5, 3, 3]);
        var act = () => F.conv2d(x, w);
        act.Should().Throw<TorchException>()
            .Where(e => e.Message.Contains("[4, 5, 3, 3]") && e.Message.Contains("[1, 3, 8, 8]") && e.Message.Contains("channels"));

        // The process and the library are fine afterwards.
        var ok = F.conv2d(x, torch.ones([2, 3, 3, 3]));
        ok.shape.Should().Equal(1, 2, 6, 6);
        (torch.ones([2, 2]) + torch.ones([2, 2])).sum().item().Should().Be(8);
    }

    [Fact]
    public void The_error_message_is_that_of_the_latest_failure()
    {
        using var scope = torch.NewDisposeScope();
        var a = () => torch.ones([6]).reshape(4, 4);
        a.Should().Throw<TorchException>().WithMessage("*shape '[4, 4]' is invalid for input of size 6*");
        var b = () => torch.ones([2, 3]).matmul(torch.ones([2, 3]));
        b.Should().Throw<TorchException>().Where(e => e.Message.Contains("2x3") && !e.Message.Contains("[4, 4]"));
    }

    [Fact]
    public void From_array_with_the_wrong_element_count_names_both_counts()
    {
        var act = () => torch.from_array(new float[5], 2, 3);
        act.Should().Throw<ArgumentException>().WithMessage("*5 elements*[2, 3]*6*");
    }

    [Fact]
    public void From_bytes_with_the_wrong_byte_count_is_a_TorchException()
    {
        var act = () => torch.from_bytes(new byte[10], [3], ScalarType.Float32);
        act.Should().Throw<TorchException>().WithMessage("*10 bytes given, shape needs 12*");
    }

    [Fact]
    public void Data_with_a_type_other_than_the_element_type_is_rejected_even_when_sizes_agree()
    {
        using var scope = torch.NewDisposeScope();
        var f64 = torch.ones([3], ScalarType.Float64);
        var i32 = torch.ones([3], ScalarType.Int32);
        ((Action)(() => f64.data<long>())).Should().Throw<InvalidOperationException>().WithMessage("*data<Int64>*Float64*");
        ((Action)(() => i32.data<float>())).Should().Throw<InvalidOperationException>().WithMessage("*data<Single>*Int32*");
        ((Action)(() => f64.data<float>())).Should().Throw<InvalidOperationException>();
        f64.data<double>().Should().Equal(1, 1, 1);
        i32.data<int>().Should().Equal(1, 1, 1);
    }

    [Fact]
    public void Item_of_a_tensor_with_several_elements_is_a_TorchException()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => torch.ones([3]).item();
        act.Should().Throw<TorchException>().WithMessage("*3 elements cannot be converted to Scalar*");
    }

    [Fact]
    public void Using_a_disposed_tensor_throws_ObjectDisposedException_instead_of_touching_freed_memory()
    {
        var t = torch.ones([3]);
        t.Dispose();
        t.IsDisposed.Should().BeTrue();
        var act = () => t.sum();
        act.Should().Throw<ObjectDisposedException>();
        t.Dispose(); // idempotent
    }

    [Fact]
    public void Mismatched_broadcast_and_bad_dims_are_TorchExceptions()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones([2, 3]);
        ((Action)(() => _ = a + torch.ones([4]))).Should().Throw<TorchException>().WithMessage("*size of tensor a (3) must match the size of tensor b (4)*");
        ((Action)(() => a.sum(5))).Should().Throw<TorchException>().WithMessage("*Dimension out of range*");
        ((Action)(() => torch.cat([a, torch.ones([2, 3, 1])], 0))).Should().Throw<TorchException>();
        ((Action)(() => torch.cat([], 0))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Errors_on_one_thread_do_not_leak_into_another_threads_message()
    {
        string? other = null;
        var th = new Thread(() =>
        {
            try { using var s = torch.NewDisposeScope(); torch.ones([6]).reshape(5); }
            catch (TorchException e) { other = e.Message; }
        });
        th.Start();
        th.Join();
        other.Should().Contain("[5]");
        var act = () => { using var s = torch.NewDisposeScope(); return torch.ones([2, 2]).view(3); };
        act.Should().Throw<TorchException>().Where(e => e.Message.Contains("[3]") && !e.Message.Contains("[5]"));
    }
}
