// C ABI shim over libtorch. Every entry point is extern "C", takes and returns opaque
// handles (heap-allocated at::Tensor*), catches every exception and reports it through
// cf_last_error(): no input from C# may crash the process.
#pragma once
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/Parallel.h>
#include <cstdint>
#include <string>

#define CF_API extern "C" __attribute__((visibility("default")))

typedef at::Tensor* TensorH;
typedef at::Generator* GenH;

void cf_set_error(const std::string& message);

// Every calling thread (any .NET thread) gets libtorch's intra-op thread count before its first op.
// libtorch sets OpenMP's per-thread count lazily, only on its first at::parallel_for; oneDNN's OpenMP
// regions (convolutions) that ran earlier used libgomp's default (all cores) instead, so the first
// steps of a run summed in a different order than the rest: not bit-reproducible.
#define CF_INIT_THREADS() at::internal::lazy_init_num_threads()

// Wraps a body returning a handle: nullptr on error.
#define CF_TENSOR(...)                                              \
  try { CF_INIT_THREADS(); return new at::Tensor(__VA_ARGS__); }            \
  catch (const c10::Error& e) { cf_set_error(e.what_without_backtrace()); } \
  catch (const std::exception& e) { cf_set_error(e.what()); }        \
  catch (...) { cf_set_error("unknown native error"); }              \
  return nullptr;

// Wraps a statement block: returns 0 on success, -1 on error.
#define CF_STATUS(...)                                             \
  try { CF_INIT_THREADS(); __VA_ARGS__; return 0; }                        \
  catch (const c10::Error& e) { cf_set_error(e.what_without_backtrace()); } \
  catch (const std::exception& e) { cf_set_error(e.what()); }        \
  catch (...) { cf_set_error("unknown native error"); }              \
  return -1;

inline at::Device cf_device(int type, int index) {
  return type == 1 ? at::Device(at::kCUDA, (c10::DeviceIndex)index) : at::Device(at::kCPU);
}
inline at::TensorOptions cf_options(int dtype, int dev_type, int dev_index) {
  return at::TensorOptions().dtype((at::ScalarType)dtype).device(cf_device(dev_type, dev_index));
}
inline at::IntArrayRef cf_dims(const int64_t* p, int n) { return at::IntArrayRef(p, (size_t)n); }
inline c10::optional<at::Generator> cf_gen(GenH g) {
  return g ? c10::optional<at::Generator>(*g) : c10::nullopt;
}
