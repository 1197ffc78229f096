namespace CoFUsfl.Simulation.Protocol;

/// <summary>The four transfers of a U-shaped step (docs/protocol.md), in protocol order.</summary>
public enum Transfer
{
    /// <summary>[1] split-1 features, client → server (<see cref="SplitFeatures"/>, split 1).</summary>
    Features1Up = 1,
    /// <summary>[2] split-2 features, server → client (<see cref="SplitFeatures"/>, split 2).</summary>
    Features2Down = 2,
    /// <summary>[3] ∂L/∂f̂2, client → server (<see cref="SplitGradient"/>, split 2).</summary>
    Gradient2Up = 3,
    /// <summary>[4] ∂L/∂f̂1, server → client (<see cref="SplitGradient"/>, split 1).</summary>
    Gradient1Down = 4,
}

/// <summary>The one place transfers are named: metrics, reports and byte accounting use these names.</summary>
public static class Transfers
{
    public static readonly IReadOnlyList<Transfer> All = [Transfer.Features1Up, Transfer.Features2Down, Transfer.Gradient2Up, Transfer.Gradient1Down];

    /// <summary>The name in metrics.jsonl and summary.json: <c>transfer1_features_up</c>, ….</summary>
    public static string MetricName(this Transfer t) => t switch
    {
        Transfer.Features1Up => "transfer1_features_up",
        Transfer.Features2Down => "transfer2_features_down",
        Transfer.Gradient2Up => "transfer3_gradient_up",
        Transfer.Gradient1Down => "transfer4_gradient_down",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a transfer"),
    };

    /// <summary>The transfer a message of <paramref name="messageType"/> (short protobuf name) from one role to another is, or null.</summary>
    public static Transfer? Of(string messageType, string senderRole, string recipientRole) => (messageType, senderRole, recipientRole) switch
    {
        (nameof(SplitFeatures), "client", "server") => Transfer.Features1Up,
        (nameof(SplitFeatures), "server", "client") => Transfer.Features2Down,
        (nameof(SplitGradient), "client", "server") => Transfer.Gradient2Up,
        (nameof(SplitGradient), "server", "client") => Transfer.Gradient1Down,
        _ => null,
    };

    /// <summary>Whether a traffic kind of metrics names one of the four transfers.</summary>
    public static bool IsTransfer(string kind) => All.Any(t => t.MetricName() == kind);
}
