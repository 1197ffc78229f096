using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Models.Layers;

#pragma warning disable CS8981, IDE1006

/// <summary>PyTorch's <c>nn.LayerNorm</c> over the last dimension: (x − mean) / √(var + ε) · weight + bias (biased variance).</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    public readonly Tensor weight, bias;
    public double Eps { get; }

    public LayerNorm(long features, double eps = 1e-5)
    {
        Eps = eps;
        weight = RegisterParameter("weight", torch.ones([features]));
        bias = RegisterParameter("bias", torch.zeros([features]));
    }

    public override Tensor forward(Tensor x)
    {
        var last = x.shape.Length - 1;
        var centered = x - x.mean([last], keepdim: true);
        var variance = centered.square().mean([last], keepdim: true);
        return centered * (variance + Eps).rsqrt() * weight + bias;
    }
}

/// <summary>CompressAI's <c>ResidualBlock</c> at one width: x + LeakyReLU(conv3×3(LeakyReLU(conv3×3(x)))).</summary>
public sealed class ResidualBlock : Module<Tensor, Tensor>
{
    public readonly Conv2d conv1, conv2;

    public ResidualBlock(long channels, Generator? g = null)
    {
        conv1 = RegisterModule("conv1", Conv.conv(channels, channels, 3, 1, g));
        conv2 = RegisterModule("conv2", Conv.conv(channels, channels, 3, 1, g));
    }

    public override Tensor forward(Tensor x) => x + conv2.forward(conv1.forward(x).leaky_relu(0.01)).leaky_relu(0.01);
}

/// <summary>
/// A Swin-style transformer block on a feature map [B, C, H, W]: multi-head self-attention inside non-overlapping
/// <see cref="Window"/>×<see cref="Window"/> windows, then a 2×-wide GELU MLP, each pre-normalized (LayerNorm over
/// channels) and residual — the attention blocks of window-attention learned codecs (Zou et al. 2022), without the shift.
/// Maps whose sides are not multiples of the window are zero-padded for the attention and cropped back.
/// </summary>
public sealed class WindowAttentionBlock : Module<Tensor, Tensor>
{
    public readonly LayerNorm norm1, norm2;
    public readonly Linear qkv, proj, fc1, fc2;
    public long Channels { get; }
    public long Heads { get; }
    public long Window { get; }

    public WindowAttentionBlock(long channels, long window = 4, long heads = 4, Generator? g = null)
    {
        if (channels % heads != 0) throw new ArgumentException($"window attention: {channels} channels do not split into {heads} heads");
        if (window < 1) throw new ArgumentException($"window attention: window {window} < 1");
        (Channels, Heads, Window) = (channels, heads, window);
        norm1 = RegisterModule("norm1", new LayerNorm(channels));
        qkv = RegisterModule("qkv", new Linear(channels, 3 * channels, generator: g));
        proj = RegisterModule("proj", new Linear(channels, channels, generator: g));
        norm2 = RegisterModule("norm2", new LayerNorm(channels));
        fc1 = RegisterModule("fc1", new Linear(channels, 2 * channels, generator: g));
        fc2 = RegisterModule("fc2", new Linear(2 * channels, channels, generator: g));
    }

    /// <summary>Self-attention among the tokens of each window: [n, T, C] → [n, T, C].</summary>
    public Tensor Attend(Tensor tokens)
    {
        var (n, t, c) = (tokens.size(0), tokens.size(1), tokens.size(2));
        var d = c / Heads;
        var qkvs = qkv.forward(tokens).reshape(n, t, 3, Heads, d).permute(2, 0, 3, 1, 4); // [3, n, heads, T, d]
        var (q, k, v) = (qkvs.select(0, 0), qkvs.select(0, 1), qkvs.select(0, 2));
        var attention = F.softmax(q.matmul(k.transpose(2, 3)) * (1.0 / Math.Sqrt(d)), 3);
        return proj.forward(attention.matmul(v).permute(0, 2, 1, 3).reshape(n, t, c));
    }

    public override Tensor forward(Tensor x)
    {
        var (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3));
        if (c != Channels) throw new ArgumentException($"window attention of {Channels} channels got {c}");
        var ph = (Window - h % Window) % Window;
        var pw = (Window - w % Window) % Window;
        var padded = ph == 0 && pw == 0 ? x : F.pad(x, [0, pw, 0, ph]);
        var (hp, wp) = (h + ph, w + pw);
        var (nh, nw) = (hp / Window, wp / Window);
        var windows = padded.permute(0, 2, 3, 1).reshape(b, nh, Window, nw, Window, c).permute(0, 1, 3, 2, 4, 5)
            .reshape(b * nh * nw, Window * Window, c);
        windows = windows + Attend(norm1.forward(windows));
        windows = windows + fc2.forward(fc1.forward(norm2.forward(windows)).gelu());
        var map = windows.reshape(b, nh, nw, Window, Window, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c).permute(0, 3, 1, 2);
        return ph == 0 && pw == 0 ? map : map.narrow(2, 0, h).narrow(3, 0, w);
    }
}
