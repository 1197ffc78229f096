using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Models.Codecs;

#pragma warning disable CS8981, IDE1006

/// <summary>
/// A task head on the compressed latent ŷ (coding for machines): global average pooling over space, then a two-layer
/// MLP to class logits. Trained jointly with a codec, it makes the latent serve a classifier as well as the decoder,
/// without reconstructing pixels.
/// </summary>
public sealed class LatentClassifier : Module<Tensor, Tensor>
{
    public readonly Linear fc1, fc2;
    public long Classes { get; }

    public LatentClassifier(long latentChannels, long classes, long hidden = 128, Generator? g = null)
    {
        if (classes < 2) throw new ArgumentException($"a classifier needs at least 2 classes, got {classes}");
        Classes = classes;
        fc1 = RegisterModule("fc1", new Linear(latentChannels, hidden, generator: g));
        fc2 = RegisterModule("fc2", new Linear(hidden, classes, generator: g));
    }

    /// <summary>Logits [B, classes] from ŷ [B, M, h, w].</summary>
    public override Tensor forward(Tensor yHat) => fc2.forward(fc1.forward(yHat.mean([2, 3])).relu());
}
