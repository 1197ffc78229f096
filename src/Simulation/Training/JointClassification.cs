using System.Text.Json.Nodes;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.Metrics;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Data;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Training;

/// <summary>
/// Joint compression + classification in the three steps of Qi, Chamain and Ding (arXiv 2310.19675): (1) screen the
/// latent width M by short trainings of each candidate, (2) train end to end with the rate–distortion loss,
/// γ·cross-entropy of a head on ŷ and an augmentation-consistency term, (3) deploy one encoder at several rates by
/// truncating ŷ to its most informative channels. Labels are the training folders (domains) or, for a CIFAR source,
/// the classes. Off while <see cref="Weight"/> is 0.
/// </summary>
public sealed record JointClassificationOptions
{
    /// <summary>γ: the loss gains γ·cross-entropy of the head's logits; 0 = off.</summary>
    public double Weight { get; init; }
    /// <summary>
    /// δ of augmentation invariance: each batch is drawn twice (other crops and flips of the same images), the head's
    /// cross-entropy is averaged over both views and δ·‖softmax(view 1) − softmax(view 2)‖² is added (the Π-model's
    /// consistency). 0 = off (plain end-to-end cross-entropy training).
    /// </summary>
    public double ConsistencyWeight { get; init; }
    public LatentScreenOptions Screen { get; init; } = new();
    /// <summary>Fractions of ŷ's channels kept at deployment (step 3), each coded through real bitstreams.</summary>
    public IReadOnlyList<double> Keep { get; init; } = [1.0, 0.75, 0.5, 0.25];
    /// <summary>Crops of each held-out image in the rate–accuracy evaluation (the same crops at every rate).</summary>
    public int EvalCrops { get; init; } = 4;
}

/// <summary>Step 1: candidate latent widths trained for <see cref="Steps"/> steps each; empty = no screening (cofusfl.model.m).</summary>
public sealed record LatentScreenOptions
{
    public IReadOnlyList<int> M { get; init; } = [];
    public int Steps { get; init; } = 300;
    /// <summary>The smallest candidate whose held-out accuracy is within this of the best candidate's is chosen.</summary>
    public double Tolerance { get; init; } = 0.02;
}

/// <summary>One rate of the deployed encoder: channels kept, held-out accuracy, bits written, PSNR of the reconstruction.</summary>
public sealed record RatePoint(double Keep, int Channels, double Accuracy, double Bpp, double Psnr, int Crops);

/// <summary>One screened latent width: held-out accuracy and rate after the screening steps.</summary>
public sealed record ScreenPoint(int M, double Accuracy, double Bpp, double Psnr);

/// <param name="Majority">The accuracy of always answering the most frequent class of the held-out images (the floor to beat).</param>
public sealed record JointResult(CompressionModel Model, ClassifierResult Classifier, IReadOnlyList<ScreenPoint> Screening, int ChosenM,
    int[] ChannelOrder, IReadOnlyList<RatePoint> Curve, double Majority = double.NaN)
{
    public JsonObject ToJson(JointClassificationOptions options, int classes) => new()
    {
        ["weight"] = options.Weight, ["consistency_weight"] = options.ConsistencyWeight, ["classes"] = classes,
        ["m"] = ChosenM, ["val_accuracy"] = Classifier.ValAccuracy, ["val_images"] = Classifier.ValImages, ["majority"] = Majority,
        ["screening"] = new JsonArray(Screening.Select(s => (JsonNode)new JsonObject { ["m"] = s.M, ["accuracy"] = s.Accuracy, ["bpp"] = s.Bpp, ["psnr"] = s.Psnr }).ToArray()),
        ["channel_order"] = new JsonArray(ChannelOrder.Select(c => (JsonNode)c).ToArray()),
        ["curve"] = new JsonArray(Curve.Select(p => (JsonNode)new JsonObject
        {
            ["keep"] = p.Keep, ["channels"] = p.Channels, ["accuracy"] = p.Accuracy, ["bpp"] = p.Bpp, ["psnr"] = p.Psnr, ["crops"] = p.Crops,
        }).ToArray()),
    };
}

public static class JointClassification
{
    /// <summary>Checks <c>cofusfl.codec-training.classification</c> against the model and data, naming the key.</summary>
    public static void Validate(JointClassificationOptions c, SimulationOptions o, int classes)
    {
        const string key = "cofusfl.codec-training.classification";
        ValidateWeights(c);
        if (c.Weight == 0) return;
        if (classes < 2) throw new ArgumentException($"{key}.weight = {c.Weight}: classification needs at least 2 classes (training folders in cofusfl.data.train, or a CIFAR source's labels); the data has {classes}");
        if (c.Keep.Count == 0 || c.Keep.Any(k => !(k > 0 && k <= 1)))
            throw new ArgumentException($"{key}.keep = [{string.Join(", ", c.Keep)}]: fractions of ŷ's channels in (0, 1], at least one");
        if (c.Keep.Distinct().Count() != c.Keep.Count) throw new ArgumentException($"{key}.keep = [{string.Join(", ", c.Keep)}]: each fraction once");
        if (c.EvalCrops < 1) throw new ArgumentException($"{key}.eval-crops = {c.EvalCrops}: at least 1");
        if (c.Screen.Steps < 1) throw new ArgumentException($"{key}.screen.steps = {c.Screen.Steps}: at least 1");
        if (!(c.Screen.Tolerance >= 0 && c.Screen.Tolerance < 1)) throw new ArgumentException($"{key}.screen.tolerance = {c.Screen.Tolerance}: in [0, 1)");
        var ms = c.Screen.M;
        for (var i = 0; i < ms.Count; i++)
            if (ms[i] < 1 || ms[i] > ushort.MaxValue || (i > 0 && ms[i] <= ms[i - 1]))
                throw new ArgumentException($"{key}.screen.m = [{string.Join(", ", ms)}]: increasing latent widths in [1, {ushort.MaxValue}]");
        if (o.Model.Name == "bmshj2018-factorized")
            throw new ArgumentException($"{key}: cofusfl.model.name = \"{o.Model.Name}\" cannot truncate its latent at deployment (per-channel tables); use bmshj2018-hyperprior or mbt2018-mean");
        foreach (var k in c.Keep)
            if ((int)Math.Round(k * o.Model.M) < 1 || ms.Any(m => (int)Math.Round(k * m) < 1))
                throw new ArgumentException($"{key}.keep = {k}: keeps no channel of M = {(ms.Count > 0 ? ms.Min() : o.Model.M)}");
    }

    /// <summary>The two loss weights' ranges (the trainer checks them on every training, with or without the three steps).</summary>
    public static void ValidateWeights(JointClassificationOptions c)
    {
        const string key = "cofusfl.codec-training.classification";
        if (c.Weight < 0 || !double.IsFinite(c.Weight)) throw new ArgumentException($"{key}.weight = {c.Weight}: 0 (off) or more");
        if (c.ConsistencyWeight < 0 || !double.IsFinite(c.ConsistencyWeight)) throw new ArgumentException($"{key}.consistency-weight = {c.ConsistencyWeight}: 0 (off) or more");
    }

    /// <summary>Labels of every image (its domain index) and the held-out images: every 8th of each domain.</summary>
    public static (Dictionary<int, int> LabelOf, List<int> Held) Split(ITrainingImages images)
    {
        var labelOf = new Dictionary<int, int>();
        var held = new List<int>();
        for (var d = 0; d < images.Domains.Count; d++)
            for (var i = 0; i < images.Domains[d].Length; i++)
            {
                labelOf[images.Domains[d][i]] = d;
                if (i % 8 == 7) held.Add(images.Domains[d][i]);
            }
        return (labelOf, held);
    }

    /// <summary>The three steps; the trained codec and head are the caller's to dispose.</summary>
    public static JointResult Run(SimulationOptions o, CodecTrainingOptions t, ITrainingImages images, Action<CodecTrainer.StepLog>? log = null,
        Action<ScreenPoint>? screened = null)
    {
        var c = t.Classification;
        Validate(c, o, images.Domains.Count);
        if (c.Weight == 0) throw new ArgumentException("cofusfl.codec-training.classification.weight = 0: joint classification is off");
        var screening = new List<ScreenPoint>();
        var chosen = (int)o.Model.M;
        if (c.Screen.M.Count > 0)
        {
            foreach (var m in c.Screen.M)
            {
                var om = o with { Model = o.Model with { M = m } };
                var tm = t with { Steps = c.Screen.Steps, CheckpointEvery = 0, LrSchedule = new(), Out = Path.Combine(t.Out, "screen", $"m{m}") };
                ClassifierResult? head = null;
                using var model = CodecTrainer.Train(om, tm, images, classified: h => head = h);
                using var _ = head!.Head;
                var all = Enumerable.Range(0, m).ToArray();
                var p = Evaluate(model, head.Head, images, head.ValImageIndexes, all, 1.0, om, c.EvalCrops);
                var point = new ScreenPoint(m, p.Accuracy, p.Bpp, p.Psnr);
                screening.Add(point);
                screened?.Invoke(point);
            }
            chosen = Choose(screening, c.Screen.Tolerance);
        }
        var oc = o with { Model = o.Model with { M = chosen } };
        ClassifierResult? classifier = null;
        var codec = CodecTrainer.Train(oc, t, images, log, classified: h => classifier = h);
        try
        {
            var order = ChannelOrder(codec, images, classifier!.ValImageIndexes, oc);
            var curve = new List<RatePoint>();
            foreach (var keep in c.Keep.OrderByDescending(k => k))
            {
                var k = Math.Max(1, (int)Math.Round(keep * chosen));
                var kept = order.Take(k).Order().ToArray();
                curve.Add(Evaluate(codec, classifier.Head, images, classifier.ValImageIndexes, kept, keep, oc, c.EvalCrops));
            }
            var (labelOf, held) = Split(images);
            var majority = held.Count == 0 ? double.NaN : (double)held.GroupBy(i => labelOf[i]).Max(g => g.Count()) / held.Count;
            return new JointResult(codec, classifier, screening, chosen, order, curve, majority);
        }
        catch
        {
            codec.Dispose();
            classifier?.Head.Dispose();
            throw;
        }
    }

    /// <summary>Step 1's choice: the smallest screened width whose accuracy is within <paramref name="tolerance"/> of the best.</summary>
    public static int Choose(IReadOnlyList<ScreenPoint> screening, double tolerance)
    {
        if (screening.Count == 0) throw new ArgumentException("no screened latent width to choose from");
        var best = screening.Max(s => s.Accuracy);
        return screening.Where(s => s.Accuracy >= best - tolerance).Min(s => s.M);
    }

    /// <summary>
    /// ŷ's channels from most to least informative: by the bits each costs (−log2 of its likelihoods under the codec's
    /// entropy model) summed over crops of training images (the held-out images are not looked at); ties by index.
    /// </summary>
    public static int[] ChannelOrder(CompressionModel model, ITrainingImages images, IReadOnlyCollection<int> held, SimulationOptions o, int crops = 64)
    {
        var bits = ChannelBits(model, images, held, o, crops);
        return Enumerable.Range(0, (int)model.M).OrderByDescending(ch => bits[ch]).ThenBy(ch => ch).ToArray();
    }

    /// <summary>Bits of each ŷ channel summed over <paramref name="crops"/> crops of training images (eval mode).</summary>
    public static double[] ChannelBits(CompressionModel model, ITrainingImages images, IReadOnlyCollection<int> held, SimulationOptions o, int crops = 64)
    {
        var heldSet = held.ToHashSet();
        var train = Enumerable.Range(0, images.Count).Where(i => !heldSet.Contains(i)).ToArray();
        var rng = new Random(unchecked((int)o.Seed) + 11);
        var bits = new double[model.M];
        var device = Device.Parse(o.Torch.Device);
        model.eval();
        using var ng = torch.no_grad();
        for (var done = 0; done < crops; done += o.Data.BatchSize)
        {
            using var scope = DisposeScope.Open();
            var picks = Enumerable.Range(0, Math.Min(o.Data.BatchSize, crops - done)).Select(_ => train[rng.Next(train.Length)]).ToList();
            var r = model.forward(images.Batch(picks, o.Data.Crop, rng).to(device));
            var perChannel = r.Likelihoods["y"].log2().neg().sum([0, 2, 3]).cpu().data<float>();
            for (var ch = 0; ch < bits.Length; ch++) bits[ch] += perChannel[ch];
        }
        return bits;
    }

    /// <summary>
    /// The deployed encoder at one rate: <paramref name="evalCrops"/> crops of each held-out image compressed with ŷ
    /// truncated to <paramref name="kept"/> (all channels: the plain bitstream), the .cfu container's bytes counted,
    /// ŷ decoded from them and classified, x̂ synthesized from it (PSNR of 8-bit RGB).
    /// </summary>
    public static RatePoint Evaluate(CompressionModel model, LatentClassifier head, ITrainingImages images, IReadOnlyList<int> held, int[] kept, double keep,
        SimulationOptions o, int evalCrops)
    {
        var (labelOf, _) = Split(images);
        var device = Device.Parse(o.Torch.Device);
        var full = kept.Length == model.M;
        model.eval();
        head.eval();
        long bytes = 0, pixels = 0;
        int hits = 0, n = 0;
        double psnrSum = 0;
        using var ng = torch.no_grad();
        foreach (var i in held)
        {
            // The same crops of image i at every rate.
            var rng = new Random(unchecked((int)o.Seed * 31 + i));
            for (var k = 0; k < evalCrops; k++)
            {
                using var scope = DisposeScope.Open();
                var x = images.Batch([i], o.Data.Crop, rng).to(device);
                var strings = full ? model.compress(x) : model.compress(x, kept);
                var file = new CompressedImage(model.Name, (int)model.N, (int)model.M, o.Data.Crop, o.Data.Crop, strings).ToBytes();
                var parsed = CompressedImage.Parse(file, $"held-out image {i} crop {k}").Strings;
                var yHat = model.decompress_latent(parsed);
                if (head.forward(yHat).argmax(1).item() == labelOf[i]) hits++;
                var xHat = model.synthesis(yHat).clamp(0, 1);
                psnrSum += Psnr.ComputeRounded(x.cpu().contiguous().data<float>(), xHat.cpu().contiguous().data<float>());
                bytes += file.Length;
                pixels += (long)o.Data.Crop * o.Data.Crop;
                n++;
            }
        }
        return new RatePoint(keep, kept.Length, n == 0 ? double.NaN : (double)hits / n, 8.0 * bytes / Math.Max(1, pixels), n == 0 ? double.NaN : psnrSum / n, n);
    }
}
