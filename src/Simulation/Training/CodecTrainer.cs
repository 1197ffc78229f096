using System.Diagnostics;
using System.Text.Json.Nodes;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Data;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Simulation.Training;

/// <summary>Plain single-machine training of a codec (the baseline every split run is compared with).</summary>
public sealed record CodecTrainingOptions
{
    public int Steps { get; init; } = 1000;
    public double Lr { get; init; } = 1e-4;
    public double AuxLr { get; init; } = 1e-3;
    /// <summary>MultiStepLR counted in steps: after each milestone step the lr is multiplied by gamma.</summary>
    public LrScheduleOptions LrSchedule { get; init; } = new();
    public int LogEvery { get; init; } = 50;
    public int CheckpointEvery { get; init; } = 500;
    public string Out { get; init; } = "runs/codec";
    /// <summary>Teacher codec checkpoint for distillation; empty = plain training.</summary>
    public string Teacher { get; init; } = "";
    /// <summary>α: the distortion term is (1 − α)·MSE(x̂, x) + α·MSE(x̂, x̂_teacher).</summary>
    public double DistillWeight { get; init; } = 0.5;
    /// <summary>FEDS distillation from <see cref="Teacher"/> in three stages (<see cref="FedsOptions"/>); off while its step counts are 0.</summary>
    public FedsOptions Feds { get; init; } = new();
    /// <summary>Joint compression + classification (<see cref="JointClassificationOptions"/>); off while its weight is 0.</summary>
    public JointClassificationOptions Classification { get; init; } = new();
    /// <summary>γ of the classification loss (shorthand used by the trainer).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double ClassifyWeight => Classification.Weight;
}

/// <summary>The task head of joint compression + classification and its accuracy on the held-out images.</summary>
public sealed record ClassifierResult(LatentClassifier Head, double ValAccuracy, int ValImages, IReadOnlyList<int> ValImageIndexes);

/// <summary>
/// CompressAI's training recipe: L = λ·255²·MSE + bpp (estimated from the likelihoods), Adam on the main parameters,
/// a separate Adam on the quantiles (aux loss), gradient clipping; safetensors checkpoints of the codec.
/// </summary>
public static class CodecTrainer
{
    /// <param name="TeacherMse">MSE between the student's and the teacher's reconstructions (distillation only).</param>
    /// <param name="Accuracy">Training-batch accuracy of the classifier (joint classification only).</param>
    /// <param name="Stage">FEDS stage of the step (FEDS only), with its <paramref name="FeatureLoss"/> or <paramref name="ChannelLoss"/>.</param>
    public sealed record StepLog(int Step, double Loss, double Mse, double Psnr, double Bpp, double AuxLoss, double StepMs, double? TeacherMse = null,
        double? CrossEntropy = null, double? Accuracy = null, int? Stage = null, double? FeatureLoss = null, double? ChannelLoss = null);

    /// <summary>Checks the ranges of <c>cofusfl.codec-training</c>, naming the key (<see cref="ArgumentException"/>).</summary>
    public static void Validate(CodecTrainingOptions t)
    {
        if (t.DistillWeight is < 0 or > 1 || double.IsNaN(t.DistillWeight))
            throw new ArgumentException($"cofusfl.codec-training.distill-weight = {t.DistillWeight}: between 0 and 1");
        JointClassification.ValidateWeights(t.Classification);
        var f = t.Feds;
        if (f.FeatureSteps < 0 || f.ChannelSteps < 0 || (long)f.FeatureSteps + f.ChannelSteps > t.Steps)
            throw new ArgumentException($"cofusfl.codec-training.feds: feature-steps = {f.FeatureSteps} and channel-steps = {f.ChannelSteps} must be >= 0 and together at most steps = {t.Steps} (the rest fine-tunes)");
        foreach (var (key, w) in new[] { ("feature-weight", f.FeatureWeight), ("channel-weight", f.ChannelWeight) })
            if (w < 0 || !double.IsFinite(w)) throw new ArgumentException($"cofusfl.codec-training.feds.{key} = {w}: 0 or more");
        foreach (var (key, lr) in new[] { ("lr", t.Lr), ("aux-lr", t.AuxLr) })
            if (!(lr > 0 && double.IsFinite(lr))) throw new ArgumentException($"cofusfl.codec-training.{key} = {lr}: a finite number > 0");
        var ls = t.LrSchedule;
        if (!(double.IsFinite(ls.Gamma) && ls.Gamma > 0 && ls.Gamma <= 1))
            throw new ArgumentException($"cofusfl.codec-training.lr-schedule.gamma = {ls.Gamma}: a finite number in (0, 1]");
        for (var i = 0; i < ls.Milestones.Count; i++)
            if (ls.Milestones[i] < 1 || (i > 0 && ls.Milestones[i] <= ls.Milestones[i - 1]))
                throw new ArgumentException($"cofusfl.codec-training.lr-schedule.milestones = [{string.Join(", ", ls.Milestones)}]: increasing step numbers >= 1");
    }

    /// <param name="teacher">Distillation (Hinton-style, on reconstructions): a trained codec in eval mode whose x̂ the student
    /// also matches, weighted by <see cref="CodecTrainingOptions.DistillWeight"/>. It may be larger (N, M) or another model.</param>
    public static CompressionModel Train(SimulationOptions o, CodecTrainingOptions t, ITrainingImages images, Action<StepLog>? log = null,
        CompressionModel? start = null, CompressionModel? teacher = null, Action<ClassifierResult>? classified = null)
    {
        Validate(t);
        if (t.ClassifyWeight > 0 && images.Domains.Count < 2)
            throw new ArgumentException($"cofusfl.codec-training.classification.weight = {t.ClassifyWeight}: classification learns the training folder of each image and needs at least 2 folders in cofusfl.data.train (has {images.Domains.Count})");
        if (o.Torch.Threads > 0) torch.set_num_threads(o.Torch.Threads);
        var device = Device.Parse(o.Torch.Device);
        using var g = new Generator((ulong)o.Seed);
        using var noise = new Generator((ulong)o.Seed + 1, device);
        var model = start ?? CodecZoo.Create(o.Model.Name, o.Model.N, o.Model.M, g);
        model.to(device);
        model.NoiseGenerator = noise;
        model.TrainingQuantization = o.Training.Quantization == "ste" ? TrainingQuantization.Ste : TrainingQuantization.Noise;
        model.train();
        if (teacher is not null)
        {
            teacher.to(device);
            teacher.eval();
        }
        if (t.Feds.Enabled && teacher is null)
            throw new ArgumentException($"cofusfl.codec-training.feds (feature-steps = {t.Feds.FeatureSteps}, channel-steps = {t.Feds.ChannelSteps}) needs a teacher: set cofusfl.codec-training.teacher");
        using var feds = t.Feds.Enabled ? new FedsAdapters(model, teacher!, g) : null;
        feds?.to(device);
        var alpha = teacher is null ? 0 : t.DistillWeight;
        // Joint classification: labels are domains (training folders); every 8th image of each is held out.
        LatentClassifier? head = null;
        var (labelOf, held) = t.ClassifyWeight > 0 ? JointClassification.Split(images) : (new Dictionary<int, int>(), new List<int>());
        var consistency = t.Classification.ConsistencyWeight;
        if (t.ClassifyWeight > 0)
        {
            head = new LatentClassifier(model.M, images.Domains.Count, g: g);
            head.to(device);
            head.train();
        }
        var mainParameters = model.main_parameters().Concat(head?.parameters_() ?? []).Concat(feds?.parameters_() ?? []).ToList();
        using var opt = new Adam(mainParameters, t.Lr);
        using var aux = new Adam(model.aux_parameters(), t.AuxLr);
        var rng = new Random(unchecked((int)o.Seed));
        var heldSet = held.ToHashSet();
        var all = images.Domains.SelectMany(d => d).Where(i => !heldSet.Contains(i)).ToArray();
        Directory.CreateDirectory(t.Out);
        for (var step = 1; step <= t.Steps; step++)
        {
            var t0 = Stopwatch.GetTimestamp();
            opt.LearningRate = t.Lr * t.LrSchedule.FactorAt((uint)step);
            using var scope = DisposeScope.Open();
            var picks = Enumerable.Range(0, o.Data.BatchSize).Select(_ => all[rng.Next(all.Length)]).ToList();
            var x = images.Batch(picks, o.Data.Crop, rng).to(device);
            var stage = feds is null ? (int?)null : t.Feds.StageAt(step);
            ForwardResult r;
            Tensor? featureLoss = null, channelLoss = null, teacherXHat = null;
            if (stage is 1 or 2)
            {
                var student = FedsAdapters.Run(model, x);
                FedsAdapters.Pass teaching;
                using (torch.no_grad()) teaching = FedsAdapters.Run(teacher!, x);
                teacherXHat = teaching.XHat;
                if (stage == 1) featureLoss = feds!.FeatureLoss(student, teaching);
                else channelLoss = feds!.ChannelLoss(student, teaching);
                r = new ForwardResult(student.XHat, student.Latent.Likelihoods) { YHat = student.Latent.YHat };
            }
            else r = model.forward(x);
            var pixels = (double)o.Data.BatchSize * o.Data.Crop * o.Data.Crop;
            var bits = r.Likelihoods.Values.Select(l => l.log2().sum().neg()).Aggregate((a, b) => a + b);
            var mse = F.mse_loss(r.XHat, x);
            Tensor? teacherMse = null;
            var distortion = mse;
            // The teacher's x̂: from its FEDS pass when there is one; in FEDS's fine-tuning without output distillation, not needed.
            if (teacher is not null && (teacherXHat is not null || alpha > 0 || feds is null))
            {
                Tensor target;
                using (torch.no_grad()) target = (teacherXHat ?? teacher.forward(x).XHat).clamp(0, 1);
                teacherMse = F.mse_loss(r.XHat, target);
                distortion = mse * (1 - alpha) + teacherMse * alpha;
            }
            var loss = Models.Losses.RateDistortion.DistortionTerm(distortion, o.Loss.Lambda) + bits / pixels;
            if (featureLoss is not null) loss = loss + featureLoss * t.Feds.FeatureWeight;
            if (channelLoss is not null) loss = loss + channelLoss * t.Feds.ChannelWeight;
            Tensor? ce = null, correct = null;
            if (head is not null)
            {
                var labels = torch.from_array(picks.Select(i => (long)labelOf[i]).ToArray(), picks.Count).to(device);
                var logits = head.forward(r.YHat!);
                ce = F.cross_entropy(logits, labels);
                correct = logits.argmax(1).eq(labels).@float().mean();
                if (consistency > 0)
                {
                    // A second view of the same images (other crops and flips): cross-entropy on both, and the Π-model's
                    // consistency between the two predictions.
                    var logits2 = head.forward(model.forward(images.Batch(picks, o.Data.Crop, rng).to(device)).YHat!);
                    ce = (ce + F.cross_entropy(logits2, labels)) * 0.5;
                    var agreement = (F.softmax(logits, 1) - F.softmax(logits2, 1)).square().sum(1).mean();
                    loss = loss + agreement * consistency;
                }
                loss = loss + ce * t.ClassifyWeight;
            }
            opt.zero_grad();
            loss.backward();
            if (o.Training.ClipGradNorm > 0) GradClip.clip_grad_norm_(mainParameters, o.Training.ClipGradNorm);
            opt.step();
            aux.zero_grad();
            var auxLoss = model.aux_loss();
            auxLoss.backward();
            aux.step();
            if (log is not null && (step % t.LogEvery == 0 || step == 1 || step == t.Steps))
            {
                var m = mse.item();
                log(new StepLog(step, loss.item(), m, Models.Metrics.Psnr.FromMse(Math.Max(m, 1e-12), max: 1), bits.item() / pixels, auxLoss.item(),
                    Stopwatch.GetElapsedTime(t0).TotalMilliseconds, teacherMse?.item(), ce?.item(), correct?.item(), stage, featureLoss?.item(), channelLoss?.item()));
            }
            if ((t.CheckpointEvery > 0 && step % t.CheckpointEvery == 0) || step == t.Steps) Save(model, Path.Combine(t.Out, "codec.safetensors"), step);
        }
        // g is disposed on return: the model must not keep it (a later forward in training mode would use a dead generator).
        model.NoiseGenerator = null;
        model.eval();
        model.update();
        if (head is not null)
        {
            head.eval();
            var hits = 0;
            var valRng = new Random(unchecked((int)o.Seed) + 7);
            using (torch.no_grad())
                foreach (var i in held)
                {
                    using var scope = DisposeScope.Open();
                    var x = images.Batch([i], o.Data.Crop, valRng).to(device);
                    if (head.forward(model.forward(x).YHat!).argmax(1).item() == labelOf[i]) hits++;
                }
            if (classified is null) head.Dispose();
            else classified(new ClassifierResult(head, held.Count == 0 ? double.NaN : (double)hits / held.Count, held.Count, held));
        }
        return model;
    }

    /// <summary>Saves a codec with the metadata <see cref="Load"/> needs to rebuild it.</summary>
    public static void Save(CompressionModel model, string path, int step = 0) =>
        Safetensors.Save(path, model.state_dict(), new Dictionary<string, string>
        {
            ["model"] = model.Name, ["n"] = model.N.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["m"] = model.M.ToString(System.Globalization.CultureInfo.InvariantCulture), ["step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    /// <summary>Rebuilds a codec from a checkpoint written by <see cref="Save"/> or a run folder (model, N, M from its metadata).</summary>
    public static CompressionModel Load(string path)
    {
        var meta = new Dictionary<string, string>();
        var tensors = Safetensors.Load(path, meta);
        try
        {
            if (!meta.TryGetValue("model", out var name) || !meta.TryGetValue("n", out var n) || !meta.TryGetValue("m", out var m))
                throw new FormatException($"{path}: no model/n/m metadata (not a CoFUsfl codec checkpoint)");
            foreach (var (key, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                if (t.dtype is ScalarType.Float32 && t.data<float>().Any(v => !float.IsFinite(v)))
                    throw new FormatException($"{path}: '{key}' holds NaN or infinite values: a diverged or damaged codec cannot code images");
            var model = CodecZoo.Create(name, long.Parse(n, System.Globalization.CultureInfo.InvariantCulture), long.Parse(m, System.Globalization.CultureInfo.InvariantCulture));
            try { model.load_state_dict(tensors); }
            catch (Torch.NN.StateDictException e) { model.Dispose(); throw new FormatException($"{path}: {e.Message}", e); }
            model.eval();
            model.update();
            return model;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>
    /// The split features' rounding of a CoF U-SFL run, from its checkpoint (<c>checkpoints/latest.safetensors</c>):
    /// the split points from its metadata and the learned gains <c>feature1.log_gain</c>, <c>feature2.log_gain</c>
    /// (a split without one was a float32 transfer and stays unrounded). Adaptive feature codecs only: the learned
    /// density rounds around its medians.
    /// </summary>
    public static SplitQuantization LoadSplitQuantization(string checkpoint)
    {
        var meta = new Dictionary<string, string>();
        var tensors = Safetensors.Load(checkpoint, meta);
        try
        {
            if (!meta.TryGetValue("head", out var head) || !meta.TryGetValue("tail", out var tail))
                throw new FormatException($"{checkpoint}: no head/tail metadata (not the checkpoint of a split run)");
            if (tensors.Keys.Any(k => k.StartsWith("feature1.entropy_bottleneck.", StringComparison.Ordinal) || k.StartsWith("feature2.entropy_bottleneck.", StringComparison.Ordinal)))
                throw new FormatException($"{checkpoint}: the run used the learned feature density ('entropy' codec); split quantization at inference supports the 'adaptive' codec's rounding only");
            float[]? Gain(string name)
            {
                if (!tensors.TryGetValue(name, out var t)) return null;
                var g = t.exp().contiguous().data<float>();
                if (g.Any(v => !float.IsFinite(v) || v <= 0)) throw new FormatException($"{checkpoint}: '{name}' is not a finite positive gain");
                return g;
            }
            var (g1, g2) = (Gain("feature1.log_gain"), Gain("feature2.log_gain"));
            if (g1 is null && g2 is null) throw new FormatException($"{checkpoint}: no feature1.log_gain or feature2.log_gain (the run sent float32 features: nothing was rounded)");
            return new SplitQuantization(int.Parse(head, System.Globalization.CultureInfo.InvariantCulture), g1, int.Parse(tail, System.Globalization.CultureInfo.InvariantCulture), g2);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    public static JsonObject ToJson(StepLog s)
    {
        var j = new JsonObject
        {
            ["step"] = s.Step, ["loss"] = s.Loss, ["mse"] = s.Mse, ["psnr"] = s.Psnr, ["bpp"] = s.Bpp, ["aux_loss"] = s.AuxLoss, ["step_ms"] = s.StepMs,
        };
        if (s.TeacherMse is { } tm) j["teacher_mse"] = tm;
        if (s.CrossEntropy is { } c) j["cross_entropy"] = c;
        if (s.Accuracy is { } a) j["accuracy"] = a;
        if (s.Stage is { } st) j["stage"] = st;
        if (s.FeatureLoss is { } fl) j["feature_loss"] = fl;
        if (s.ChannelLoss is { } cl) j["channel_loss"] = cl;
        return j;
    }
}
