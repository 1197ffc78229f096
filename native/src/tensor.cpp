// Tensor lifetime, creation, data movement, elementwise ops, reductions and shapes.
#include "common.h"
#include <ATen/Parallel.h>
#include <torch/version.h>
#include <sstream>
#include <cstring>

static thread_local std::string g_last_error;
void cf_set_error(const std::string& message) { g_last_error = message; }

CF_API const char* cf_last_error() { return g_last_error.c_str(); }
CF_API void cf_free(TensorH t) { delete t; }
CF_API const char* cf_version() {
  static std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH);
  return v.c_str();
}
CF_API int cf_get_num_threads() { return at::get_num_threads(); }
CF_API int cf_set_num_threads(int n) { CF_STATUS(at::set_num_threads(n)) }
CF_API int cf_manual_seed(uint64_t seed) { CF_STATUS(at::manual_seed(seed)) }
CF_API const char* cf_parallel_info() {
  static thread_local std::string s; s = at::get_parallel_info(); return s.c_str();
}

// ---- generators (seeded streams; one per actor keeps runs deterministic under threading)
CF_API GenH cf_generator_new(uint64_t seed, int dev_type, int dev_index) {
  try {
    at::Generator g = dev_type == 1 ? at::globalContext().defaultGenerator(cf_device(1, dev_index)).clone()
                                    : at::make_generator<at::CPUGeneratorImpl>(seed);
    g.set_current_seed(seed);
    return new at::Generator(g);
  } catch (const c10::Error& e) { cf_set_error(e.what_without_backtrace()); }
  catch (const std::exception& e) { cf_set_error(e.what()); }
  return nullptr;
}
CF_API void cf_generator_free(GenH g) { delete g; }

// ---- creation
// kind: 0 empty, 1 zeros, 2 ones, 3 full(value), 4 rand U[0,1), 5 randn, 6 uniform[lo,hi)
CF_API TensorH cf_new(int kind, const int64_t* shape, int ndim, int dtype, int dev_type, int dev_index,
                      double a, double b, GenH gen) {
  auto o = cf_options(dtype, dev_type, dev_index);
  auto s = cf_dims(shape, ndim);
  CF_TENSOR(([&]() -> at::Tensor {
    switch (kind) {
      case 0: return at::empty(s, o);
      case 1: return at::zeros(s, o);
      case 2: return at::ones(s, o);
      case 3: return at::full(s, a, o);
      case 4: return at::rand(s, cf_gen(gen), o);
      case 5: return at::randn(s, cf_gen(gen), o);
      case 6: return at::empty(s, o).uniform_(a, b, cf_gen(gen));
      default: throw std::invalid_argument("cf_new: unknown kind " + std::to_string(kind));
    }
  })())
}
// like: 0 zeros_like, 1 ones_like, 2 empty_like, 3 uniform_like [a,b), 4 randn_like, 5 full_like(a)
CF_API TensorH cf_like(int kind, TensorH t, double a, double b, GenH gen) {
  CF_TENSOR(([&]() -> at::Tensor {
    switch (kind) {
      case 0: return at::zeros_like(*t);
      case 1: return at::ones_like(*t);
      case 2: return at::empty_like(*t);
      case 3: return at::empty_like(*t).uniform_(a, b, cf_gen(gen));
      case 4: return at::empty_like(*t).normal_(0, 1, cf_gen(gen));
      case 5: return at::full_like(*t, a);
      default: throw std::invalid_argument("cf_like: unknown kind " + std::to_string(kind));
    }
  })())
}
CF_API TensorH cf_arange(double start, double end, double step, int dtype, int dev_type, int dev_index) {
  CF_TENSOR(at::arange(start, end, step, cf_options(dtype, dev_type, dev_index)))
}
// Copies nbytes from data into a new CPU tensor of the given shape and dtype.
CF_API TensorH cf_from_data(const void* data, int64_t nbytes, const int64_t* shape, int ndim, int dtype) {
  CF_TENSOR(([&]() -> at::Tensor {
    auto t = at::empty(cf_dims(shape, ndim), at::TensorOptions().dtype((at::ScalarType)dtype));
    if ((int64_t)t.nbytes() != nbytes)
      throw std::invalid_argument("from_data: " + std::to_string(nbytes) + " bytes given, shape needs " + std::to_string(t.nbytes()));
    if (nbytes) std::memcpy(t.data_ptr(), data, (size_t)nbytes);
    return t;
  })())
}
// Copies the tensor's elements (any device, made contiguous) into dst; nbytes must match.
CF_API int cf_copy_to(TensorH t, void* dst, int64_t nbytes) {
  CF_STATUS({
    auto c = t->detach().to(at::kCPU).contiguous();
    if ((int64_t)c.nbytes() != nbytes)
      throw std::invalid_argument("copy_to: buffer of " + std::to_string(nbytes) + " bytes, tensor has " + std::to_string(c.nbytes()));
    if (nbytes) std::memcpy(dst, c.data_ptr(), (size_t)nbytes);
  })
}
// Pointer to the data of a contiguous CPU tensor (nullptr otherwise): zero-copy reads.
CF_API void* cf_data_ptr(TensorH t) {
  try { return (t->device().is_cpu() && t->is_contiguous()) ? t->data_ptr() : nullptr; } catch (...) { return nullptr; }
}

// ---- metadata
CF_API int cf_dim(TensorH t) { return (int)t->dim(); }
CF_API int cf_shape(TensorH t, int64_t* out) { for (int64_t i = 0; i < t->dim(); i++) out[i] = t->size(i); return (int)t->dim(); }
CF_API int cf_dtype(TensorH t) { return (int)t->scalar_type(); }
CF_API int cf_device_type(TensorH t) { return t->device().is_cuda() ? 1 : 0; }
CF_API int cf_device_index(TensorH t) { return t->device().has_index() ? t->device().index() : 0; }
CF_API int64_t cf_numel(TensorH t) { return t->numel(); }
CF_API int cf_requires_grad(TensorH t) { return t->requires_grad() ? 1 : 0; }
CF_API int cf_is_leaf(TensorH t) { return t->is_leaf() ? 1 : 0; }
CF_API int cf_defined(TensorH t) { return t->defined() ? 1 : 0; }
CF_API int cf_item(TensorH t, double* out) { CF_STATUS(*out = t->item<double>()) }
CF_API int cf_equal(TensorH a, TensorH b, int* out) { CF_STATUS(*out = (a->sizes() == b->sizes() && a->scalar_type() == b->scalar_type() && at::equal(*a, *b)) ? 1 : 0) }
CF_API const char* cf_to_string(TensorH t) {
  static thread_local std::string s;
  try { std::ostringstream os; os << *t; s = os.str(); } catch (const std::exception& e) { s = e.what(); }
  return s.c_str();
}

// ---- conversion
CF_API TensorH cf_to(TensorH t, int dtype, int dev_type, int dev_index, int copy) {
  CF_TENSOR(t->to(cf_device(dev_type, dev_index), (at::ScalarType)dtype, false, copy != 0))
}

// ---- elementwise
enum Unary { U_NEG, U_ABS, U_SIGN, U_EXP, U_LOG, U_LOG2, U_SQRT, U_RSQRT, U_ROUND, U_FLOOR, U_CEIL,
             U_SIGMOID, U_TANH, U_RELU, U_SOFTPLUS, U_ERFC, U_ERF, U_SIN, U_COS, U_RECIPROCAL, U_SQUARE,
             U_CONTIGUOUS, U_DETACH, U_CLONE, U_LOGICAL_NOT, U_LOG1P, U_EXPM1, U_TRUNC, U_ISFINITE, U_GELU };
CF_API TensorH cf_unary(int op, TensorH a) {
  CF_TENSOR(([&]() -> at::Tensor {
    const at::Tensor& x = *a;
    switch (op) {
      case U_NEG: return at::neg(x);        case U_ABS: return at::abs(x);
      case U_SIGN: return at::sign(x);      case U_EXP: return at::exp(x);
      case U_LOG: return at::log(x);        case U_LOG2: return at::log2(x);
      case U_SQRT: return at::sqrt(x);      case U_RSQRT: return at::rsqrt(x);
      case U_ROUND: return at::round(x);    case U_FLOOR: return at::floor(x);
      case U_CEIL: return at::ceil(x);      case U_SIGMOID: return at::sigmoid(x);
      case U_TANH: return at::tanh(x);      case U_RELU: return at::relu(x);
      case U_SOFTPLUS: return at::softplus(x); case U_ERFC: return at::erfc(x);
      case U_ERF: return at::erf(x);        case U_SIN: return at::sin(x);
      case U_COS: return at::cos(x);        case U_RECIPROCAL: return at::reciprocal(x);
      case U_SQUARE: return at::square(x);  case U_CONTIGUOUS: return x.contiguous();
      case U_DETACH: return x.detach();     case U_CLONE: return x.clone();
      case U_LOGICAL_NOT: return at::logical_not(x); case U_LOG1P: return at::log1p(x);
      case U_EXPM1: return at::expm1(x);    case U_TRUNC: return at::trunc(x);
      case U_ISFINITE: return at::isfinite(x); case U_GELU: return at::gelu(x);
      default: throw std::invalid_argument("cf_unary: unknown op " + std::to_string(op));
    }
  })())
}
enum Binary { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE,
              B_MATMUL, B_REMAINDER, B_LOGICAL_AND, B_LOGICAL_OR, B_ATAN2 };
static at::Tensor binary(int op, const at::Tensor& x, const at::Tensor& y) {
  switch (op) {
    case B_ADD: return at::add(x, y);   case B_SUB: return at::sub(x, y);
    case B_MUL: return at::mul(x, y);   case B_DIV: return at::div(x, y);
    case B_POW: return at::pow(x, y);   case B_MAXIMUM: return at::maximum(x, y);
    case B_MINIMUM: return at::minimum(x, y); case B_EQ: return at::eq(x, y);
    case B_NE: return at::ne(x, y);     case B_LT: return at::lt(x, y);
    case B_LE: return at::le(x, y);     case B_GT: return at::gt(x, y);
    case B_GE: return at::ge(x, y);     case B_MATMUL: return at::matmul(x, y);
    case B_REMAINDER: return at::remainder(x, y); case B_LOGICAL_AND: return at::logical_and(x, y);
    case B_LOGICAL_OR: return at::logical_or(x, y); case B_ATAN2: return at::atan2(x, y);
    default: throw std::invalid_argument("cf_binary: unknown op " + std::to_string(op));
  }
}
CF_API TensorH cf_binary(int op, TensorH a, TensorH b) { CF_TENSOR(binary(op, *a, *b)) }
// Scalar on the right (reverse=0: a op s) or on the left (reverse=1: s op a).
enum ScalarOp { S_ADD, S_SUB, S_MUL, S_DIV, S_POW, S_EQ, S_NE, S_LT, S_LE, S_GT, S_GE, S_CLAMP_MIN, S_CLAMP_MAX,
                S_LEAKY_RELU, S_REMAINDER, S_FMOD };
CF_API TensorH cf_binary_scalar(int op, TensorH a, double s, int reverse) {
  CF_TENSOR(([&]() -> at::Tensor {
    const at::Tensor& x = *a;
    at::Scalar v(s);
    if (reverse) {
      switch (op) {
        case S_SUB: return at::rsub(x, v);
        case S_DIV: return at::mul(at::reciprocal(x), v);
        case S_POW: return at::pow(v, x);
        default: break;
      }
    }
    switch (op) {
      case S_ADD: return at::add(x, v);   case S_SUB: return at::sub(x, v);
      case S_MUL: return at::mul(x, v);   case S_DIV: return at::div(x, v);
      case S_POW: return at::pow(x, v);   case S_EQ: return at::eq(x, v);
      case S_NE: return at::ne(x, v);     case S_LT: return at::lt(x, v);
      case S_LE: return at::le(x, v);     case S_GT: return at::gt(x, v);
      case S_GE: return at::ge(x, v);     case S_CLAMP_MIN: return at::clamp_min(x, v);
      case S_CLAMP_MAX: return at::clamp_max(x, v); case S_LEAKY_RELU: return at::leaky_relu(x, v);
      case S_REMAINDER: return at::remainder(x, v); case S_FMOD: return at::fmod(x, v);
      default: throw std::invalid_argument("cf_binary_scalar: unknown op " + std::to_string(op));
    }
  })())
}
CF_API TensorH cf_clamp(TensorH a, double lo, double hi, int has_lo, int has_hi) {
  CF_TENSOR(at::clamp(*a, has_lo ? c10::optional<at::Scalar>(lo) : c10::nullopt, has_hi ? c10::optional<at::Scalar>(hi) : c10::nullopt))
}
CF_API TensorH cf_where(TensorH cond, TensorH a, TensorH b) { CF_TENSOR(at::where(*cond, *a, *b)) }

// ---- reductions over dims (ndims == 0: all elements)
enum Reduce { R_SUM, R_MEAN, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN, R_NORM, R_PROD, R_ANY, R_ALL, R_LOGSUMEXP, R_VAR, R_STD };
CF_API TensorH cf_reduce(int op, TensorH a, const int64_t* dims, int ndims, int keepdim) {
  CF_TENSOR(([&]() -> at::Tensor {
    const at::Tensor& x = *a;
    bool all = ndims == 0;
    bool k = keepdim != 0;
    auto d = cf_dims(dims, ndims);
    switch (op) {
      case R_SUM: return all ? at::sum(x) : at::sum(x, d, k);
      case R_MEAN: return all ? at::mean(x) : at::mean(x, d, k);
      case R_MAX: return all ? at::max(x) : at::amax(x, d, k);
      case R_MIN: return all ? at::min(x) : at::amin(x, d, k);
      case R_ARGMAX: if (ndims > 1) throw std::invalid_argument("argmax takes one dim"); return all ? at::argmax(x) : at::argmax(x, dims[0], k);
      case R_ARGMIN: if (ndims > 1) throw std::invalid_argument("argmin takes one dim"); return all ? at::argmin(x) : at::argmin(x, dims[0], k);
      case R_NORM: return all ? at::norm(x) : at::norm(x, 2, d, k);
      case R_PROD: if (ndims > 1) throw std::invalid_argument("prod takes one dim"); return all ? at::prod(x) : at::prod(x, dims[0], k);
      case R_ANY: return all ? at::any(x) : at::any(x, dims[0], k);
      case R_ALL: return all ? at::all(x) : at::all(x, dims[0], k);
      case R_LOGSUMEXP: return at::logsumexp(x, all ? at::IntArrayRef() : d, k);
      case R_VAR: return all ? at::var(x) : at::var(x, d, true, k);
      case R_STD: return all ? at::std(x) : at::std(x, d, true, k);
      default: throw std::invalid_argument("cf_reduce: unknown op " + std::to_string(op));
    }
  })())
}
CF_API TensorH cf_cumsum(TensorH a, int64_t dim) { CF_TENSOR(at::cumsum(*a, dim)) }

// ---- shapes
CF_API TensorH cf_reshape(TensorH a, const int64_t* shape, int n) { CF_TENSOR(at::reshape(*a, cf_dims(shape, n))) }
CF_API TensorH cf_view(TensorH a, const int64_t* shape, int n) { CF_TENSOR(a->view(cf_dims(shape, n))) }
CF_API TensorH cf_expand(TensorH a, const int64_t* shape, int n) { CF_TENSOR(a->expand(cf_dims(shape, n))) }
CF_API TensorH cf_repeat(TensorH a, const int64_t* shape, int n) { CF_TENSOR(a->repeat(cf_dims(shape, n))) }
CF_API TensorH cf_permute(TensorH a, const int64_t* dims, int n) { CF_TENSOR(a->permute(cf_dims(dims, n))) }
CF_API TensorH cf_transpose(TensorH a, int64_t d0, int64_t d1) { CF_TENSOR(a->transpose(d0, d1)) }
CF_API TensorH cf_narrow(TensorH a, int64_t dim, int64_t start, int64_t length) { CF_TENSOR(a->narrow(dim, start, length)) }
CF_API TensorH cf_slice(TensorH a, int64_t dim, int64_t start, int64_t end, int64_t step) { CF_TENSOR(a->slice(dim, start, end, step)) }
CF_API TensorH cf_select(TensorH a, int64_t dim, int64_t index) { CF_TENSOR(a->select(dim, index)) }
CF_API TensorH cf_unsqueeze(TensorH a, int64_t dim) { CF_TENSOR(a->unsqueeze(dim)) }
CF_API TensorH cf_squeeze(TensorH a, int64_t dim, int all) { CF_TENSOR(all ? a->squeeze() : a->squeeze(dim)) }
CF_API TensorH cf_flatten(TensorH a, int64_t start, int64_t end) { CF_TENSOR(a->flatten(start, end)) }
CF_API TensorH cf_cat(TensorH* ts, int n, int64_t dim, int stack) {
  CF_TENSOR(([&]() -> at::Tensor {
    std::vector<at::Tensor> v; v.reserve(n);
    for (int i = 0; i < n; i++) v.push_back(*ts[i]);
    return stack ? at::stack(v, dim) : at::cat(v, dim);
  })())
}
// mode: 0 constant, 1 reflect, 2 replicate, 3 circular. pads as torch.nn.functional.pad (last dim first).
CF_API TensorH cf_pad(TensorH a, const int64_t* pads, int n, int mode, double value) {
  static const char* modes[] = {"constant", "reflect", "replicate", "circular"};
  CF_TENSOR(([&]() -> at::Tensor {
    if (mode < 0 || mode > 3) throw std::invalid_argument("pad: unknown mode");
    return at::pad(*a, cf_dims(pads, n), modes[mode], mode == 0 ? c10::optional<double>(value) : c10::nullopt);
  })())
}
CF_API TensorH cf_index_select(TensorH a, int64_t dim, TensorH index) { CF_TENSOR(at::index_select(*a, dim, *index)) }
CF_API TensorH cf_gather(TensorH a, int64_t dim, TensorH index) { CF_TENSOR(at::gather(*a, dim, *index)) }
CF_API TensorH cf_masked_select(TensorH a, TensorH mask) { CF_TENSOR(at::masked_select(*a, *mask)) }
CF_API int cf_topk(TensorH a, int64_t k, int64_t dim, int largest, TensorH* values, TensorH* indices) {
  CF_STATUS({
    auto r = at::topk(*a, k, dim, largest != 0, true);
    *values = new at::Tensor(std::get<0>(r));
    *indices = new at::Tensor(std::get<1>(r));
  })
}
CF_API TensorH cf_scatter(TensorH a, int64_t dim, TensorH index, TensorH src) { CF_TENSOR(at::scatter(*a, dim, *index, *src)) }

// ---- in-place updates (optimizers, FedAvg). op: 0 add_(b*alpha), 1 mul_(b), 2 copy_(b), 3 zero_, 4 fill_(alpha), 5 mul_(alpha), 6 add_(alpha)
CF_API int cf_inplace(int op, TensorH a, TensorH b, double alpha) {
  CF_STATUS({
    at::NoGradGuard ng;
    switch (op) {
      case 0: a->add_(*b, alpha); break;
      case 1: a->mul_(*b); break;
      case 2: a->copy_(*b); break;
      case 3: a->zero_(); break;
      case 4: a->fill_(alpha); break;
      case 5: a->mul_(alpha); break;
      case 6: a->add_(alpha); break;
      default: throw std::invalid_argument("cf_inplace: unknown op " + std::to_string(op));
    }
  })
}
