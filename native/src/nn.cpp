// Neural-network ops, custom autograd functions, backward, and fused optimizer steps.
#include "common.h"
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/cuda.h>
#include <sstream>

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

static c10::optional<at::Tensor> opt(TensorH t) { return t ? c10::optional<at::Tensor>(*t) : c10::nullopt; }

CF_API TensorH cf_conv2d(TensorH x, TensorH w, TensorH b, const int64_t* stride, const int64_t* padding,
                         const int64_t* dilation, int64_t groups) {
  CF_TENSOR(at::conv2d(*x, *w, opt(b), cf_dims(stride, 2), cf_dims(padding, 2), cf_dims(dilation, 2), groups))
}
CF_API TensorH cf_conv_transpose2d(TensorH x, TensorH w, TensorH b, const int64_t* stride, const int64_t* padding,
                                   const int64_t* output_padding, int64_t groups, const int64_t* dilation) {
  CF_TENSOR(at::conv_transpose2d(*x, *w, opt(b), cf_dims(stride, 2), cf_dims(padding, 2), cf_dims(output_padding, 2),
                                 groups, cf_dims(dilation, 2)))
}
CF_API TensorH cf_linear(TensorH x, TensorH w, TensorH b) { CF_TENSOR(at::linear(*x, *w, opt(b))) }
CF_API TensorH cf_pixel_shuffle(TensorH x, int64_t r, int inverse) {
  CF_TENSOR(inverse ? at::pixel_unshuffle(*x, r) : at::pixel_shuffle(*x, r))
}
// mode: 0 nearest, 1 bilinear (align_corners=false), 2 bicubic; size given (h,w) or scale (sh,sw) when h<=0.
CF_API TensorH cf_interpolate(TensorH x, int64_t h, int64_t w, double sh, double sw, int mode) {
  CF_TENSOR(([&]() -> at::Tensor {
    std::vector<int64_t> size;
    // Given a scale factor, PyTorch's F.interpolate (recompute_scale_factor=None) maps coordinates with
    // 1/scale, not with in/out sizes: pass the scales on so non-integer factors sample the same points.
    c10::optional<double> sch, scw;
    if (h > 0) size = {h, w};
    else {
      size = {(int64_t)std::floor(x->size(2) * sh), (int64_t)std::floor(x->size(3) * sw)};
      sch = sh; scw = sw;
    }
    switch (mode) {
      case 0: return at::upsample_nearest2d(*x, size, sch, scw);
      case 1: return at::upsample_bilinear2d(*x, size, false, sch, scw);
      case 2: return at::upsample_bicubic2d(*x, size, false, sch, scw);
      default: throw std::invalid_argument("interpolate: unknown mode");
    }
  })())
}
// kind: 0 max, 1 avg, 2 adaptive avg (kernel = output size)
CF_API TensorH cf_pool2d(int kind, TensorH x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
  CF_TENSOR(([&]() -> at::Tensor {
    switch (kind) {
      case 0: return at::max_pool2d(*x, {kh, kw}, {sh, sw}, {ph, pw});
      case 1: return at::avg_pool2d(*x, {kh, kw}, {sh, sw}, {ph, pw});
      case 2: return at::adaptive_avg_pool2d(*x, {kh, kw});
      default: throw std::invalid_argument("pool2d: unknown kind");
    }
  })())
}
// reduction: 0 none, 1 mean, 2 sum (at::Reduction order)
CF_API TensorH cf_mse_loss(TensorH a, TensorH b, int reduction) { CF_TENSOR(at::mse_loss(*a, *b, reduction)) }
CF_API TensorH cf_cross_entropy(TensorH logits, TensorH target, int reduction) {
  CF_TENSOR(at::cross_entropy_loss(*logits, *target, c10::nullopt, reduction))
}
CF_API TensorH cf_log_softmax(TensorH x, int64_t dim) { CF_TENSOR(at::log_softmax(*x, dim)) }
CF_API TensorH cf_softmax(TensorH x, int64_t dim) { CF_TENSOR(at::softmax(*x, dim)) }

// ---- custom autograd functions
// LowerBound (CompressAI ops.LowerBound): forward max(x, bound); the gradient passes where
// x >= bound or where it would push x up (grad < 0), so a parameter stuck at the bound can recover.
struct LowerBoundFn : public torch::autograd::Function<LowerBoundFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, double bound) {
    ctx->save_for_backward({x});
    ctx->saved_data["bound"] = bound;
    return at::clamp_min(x, bound);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto x = ctx->get_saved_variables()[0];
    double bound = ctx->saved_data["bound"].toDouble();
    auto g = grads[0];
    auto pass = at::logical_or(at::ge(x, bound), at::lt(g, 0));
    return {g * pass.to(g.scalar_type()), at::Tensor()};
  }
};
// Straight-through rounding: forward round(x), gradient identity.
struct RoundSteFn : public torch::autograd::Function<RoundSteFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x) { return at::round(x); }
  static variable_list backward(AutogradContext* ctx, variable_list grads) { return {grads[0]}; }
};
CF_API TensorH cf_lower_bound(TensorH x, double bound) { CF_TENSOR(LowerBoundFn::apply(*x, bound)) }
CF_API TensorH cf_round_ste(TensorH x) { CF_TENSOR(RoundSteFn::apply(*x)) }

// ---- autograd
CF_API int cf_set_requires_grad(TensorH t, int on) { CF_STATUS(t->requires_grad_(on != 0)) }
CF_API int cf_retain_grad(TensorH t) { CF_STATUS(t->retain_grad()) }
CF_API int cf_is_grad_enabled() { return at::GradMode::is_enabled() ? 1 : 0; }
CF_API void cf_set_grad_enabled(int on) { at::GradMode::set_enabled(on != 0); }
// Backward from n roots; grads[i] may be null (implicit 1 for scalars).
CF_API int cf_backward(TensorH* roots, TensorH* grads, int n, int retain_graph) {
  CF_STATUS({
    variable_list r, g;
    for (int i = 0; i < n; i++) {
      r.push_back(*roots[i]);
      g.push_back(grads && grads[i] ? *grads[i] : at::Tensor());
    }
    torch::autograd::backward(r, g, retain_graph ? c10::optional<bool>(true) : c10::nullopt, false);
  })
}
// *out is null when the tensor has no gradient.
CF_API int cf_grad(TensorH t, TensorH* out) {
  CF_STATUS({
    const auto& g = t->grad();
    *out = g.defined() ? new at::Tensor(g) : nullptr;
  })
}
// As PyTorch's `.grad =` setter: the gradient must match the tensor's shape, dtype and device.
CF_API int cf_set_grad(TensorH t, TensorH g) {
  CF_STATUS({
    if (g && (g->sizes() != t->sizes() || g->scalar_type() != t->scalar_type() || g->device() != t->device())) {
      std::ostringstream os;
      os << "assigned grad of shape " << g->sizes() << ", " << g->scalar_type() << " on " << g->device()
         << " to a tensor of shape " << t->sizes() << ", " << t->scalar_type() << " on " << t->device();
      throw std::invalid_argument(os.str());
    }
    t->mutable_grad() = g ? *g : at::Tensor();
  })
}

// ---- fused optimizer steps (PyTorch's formulas; one native call per parameter)
CF_API int cf_adam_step(TensorH p, TensorH exp_avg, TensorH exp_avg_sq, double lr, double beta1, double beta2,
                        double eps, double weight_decay, int64_t step, int amsgrad_unused) {
  CF_STATUS({
    at::NoGradGuard ng;
    const auto& gr = p->grad();
    if (!gr.defined()) return 0;
    at::Tensor g = weight_decay != 0 ? gr.add(*p, weight_decay) : gr;
    exp_avg->lerp_(g, 1 - beta1);
    exp_avg_sq->mul_(beta2).addcmul_(g, g, 1 - beta2);
    double bc1 = 1 - std::pow(beta1, (double)step);
    double bc2 = 1 - std::pow(beta2, (double)step);
    auto denom = (exp_avg_sq->sqrt() / std::sqrt(bc2)).add_(eps);
    p->addcdiv_(*exp_avg, denom, -lr / bc1);
  })
}
CF_API int cf_sgd_step(TensorH p, TensorH momentum_buf, double lr, double momentum, double dampening,
                       double weight_decay, int nesterov, int first) {
  CF_STATUS({
    at::NoGradGuard ng;
    const auto& gr = p->grad();
    if (!gr.defined()) return 0;
    at::Tensor g = weight_decay != 0 ? gr.add(*p, weight_decay) : gr;
    if (momentum != 0 && momentum_buf) {
      if (first) momentum_buf->copy_(g);
      else momentum_buf->mul_(momentum).add_(g, 1 - dampening);
      g = nesterov ? g.add(*momentum_buf, momentum) : *momentum_buf;
    }
    p->add_(g, -lr);
  })
}

// ---- devices
CF_API int cf_cuda_is_available() { try { return torch::cuda::is_available() ? 1 : 0; } catch (...) { return 0; } }
CF_API int cf_cuda_device_count() { try { return (int)torch::cuda::device_count(); } catch (...) { return 0; } }
CF_API int cf_cuda_synchronize() {
  CF_STATUS({ if (torch::cuda::is_available()) torch::cuda::synchronize(); })
}

// Replaces a tensor's storage in place, keeping its identity (and autograd leaf status): Module.to(device).
CF_API int cf_set_data(TensorH t, TensorH src) { CF_STATUS({ at::NoGradGuard ng; t->set_data(*src); }) }
