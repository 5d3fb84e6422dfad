// The exports table. Context-aware: no static JS handles, so the addon loads in every worker_thread; the
// kernel tables and the thread pool are process-wide C++ state.
#include <napi.h>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

#include "binding/marshal.h"
#include "convkit/isa.h"
#include "runtime/conv-winograd.h"
#include "runtime/dispatch.h"
#include "runtime/gemm.h"
#include "runtime/malloc-tuning.h"
#include "runtime/target-flags.h"

namespace {

// nativeInfo() -> { isa, availableIsas, threads, pinnedWorkers, cpu, gemmTile, compiler, buildFlags, mallocTuning }
Napi::Value NativeInfo(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("isa", ck_isa_name(ck_isa_current()));
  Napi::Array available = Napi::Array::New(env);
  uint32_t k = 0;
  for (int i = CK_ISA_COUNT - 1; i >= 0; --i)
    if (ck_isa_supported(static_cast<ck_isa>(i))) available.Set(k++, ck_isa_name(static_cast<ck_isa>(i)));
  out.Set("availableIsas", available);
  out.Set("threads", double(ck_threads()));
  out.Set("pinnedWorkers", ck_threads_pinned());
  const ck_cpu_description& c = ck_cpu();
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("vendor", c.vendor);
  cpu.Set("model", c.model_name);
  cpu.Set("family", double(c.family));
  cpu.Set("modelNumber", double(c.model));
  cpu.Set("microarchitecture", c.microarchitecture);
  cpu.Set("l1dBytes", double(c.l1d_bytes));
  cpu.Set("l2Bytes", double(c.l2_bytes));
  cpu.Set("l3Bytes", double(c.l3_bytes));
  cpu.Set("avx512FmaWidth", double(ck_avx512_fma_width()));
  out.Set("cpu", cpu);
  const auto tile = [&](const ck_gemm_config& g) {
    Napi::Object t = Napi::Object::New(env);
    for (const auto& [name, v] : {std::pair{"mr", g.mr}, {"nr", g.nr}, {"kc", g.kc}, {"mc", g.mc}, {"nc", g.nc}}) t.Set(name, double(v));
    return t;
  };
  Napi::Object gemm = Napi::Object::New(env);
  gemm.Set("wide", tile(ck_kernels().gemm));
  gemm.Set("narrow", tile(ck_kernels().gemm_narrow));
  gemm.Set("inPlacePanels", double(ck_gemm_in_place_panels(ck_kernels())));
  out.Set("gemmTile", gemm);
  Napi::Object direct = Napi::Object::New(env);
  direct.Set("forward", ck_kernels().dconv != nullptr);
  direct.Set("gradient", ck_kernels().dconv_grad != nullptr);
  out.Set("directConv", direct);
  const auto limits = [&](const auto& table) {
    Napi::Array list = Napi::Array::New(env);
    for (const ck_winograd_limit& limit : table) {
      Napi::Object w = Napi::Object::New(env);
      w.Set("kernel", double(limit.kernel));
      w.Set("outputBlock", double(limit.side));
      w.Set("minChannels", double(limit.min_channels));
      w.Set("minPixels", double(limit.min_pixels));
      list.Set(list.Length(), w);
    }
    return list;
  };
  Napi::Object winograd = Napi::Object::New(env);
  winograd.Set("forward", limits(kWinogradLimits));
  winograd.Set("filterGradient", limits(kWinogradGradientLimits[ck_isa_current()]));
  out.Set("winograd", winograd);
#if defined(__clang__)
  out.Set("compiler", "clang " __clang_version__);
#else
  out.Set("compiler", "gcc " __VERSION__);
#endif
  Napi::Object flags = Napi::Object::New(env);
#if CK_X86_KERNELS
  flags.Set("avx512", ck_target_flags_avx512());
  flags.Set("avx2", ck_target_flags_avx2());
#else
  flags.Set("avx512", "not built (not an x86-64 target)");
  flags.Set("avx2", "not built (not an x86-64 target)");
#endif
  flags.Set("scalar", ck_target_flags_scalar());
  out.Set("buildFlags", flags);
  out.Set("mallocTuning", ck_tune_malloc());
  return out;
}

// setIsa(name) -> the ISA now in use: name, or the best supported one if name is above what the CPU has.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  const Args args(info, "setIsa");
  const std::string name = args.string(0, "name");
  ck_isa isa;
  if (!ck_isa_parse(name.c_str(), &isa)) args.range_error("name must be one of scalar, avx2, avx512; received '" + name + "'");
  return Napi::String::New(info.Env(), ck_isa_name(ck_isa_select(isa)));
}

// setThreads(n) -> the thread count now in use (n in [1, 256]).
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const Args args(info, "setThreads");
  const size_t n = args.dim(0, "n", 1);
  if (n > 256) args.range_error("n must be at most 256, received " + std::to_string(n));
  ck_set_threads(n);
  return Napi::Number::New(info.Env(), double(ck_threads()));
}

// fmaPeakProbe(threads, seconds) -> GFLOP/s of independent vector FMA chains on the current ISA.
Napi::Value FmaPeakProbe(const Napi::CallbackInfo& info) {
  const Args args(info, "fmaPeakProbe");
  const size_t threads = args.dim(0, "threads", 1);
  if (threads > 256) args.range_error("threads must be at most 256, received " + std::to_string(threads));
  const double seconds = args.number(1, "seconds");
  if (!(seconds > 0 && seconds <= 10)) args.range_error("seconds must be in (0, 10], received " + std::to_string(seconds));
  double gflops = 0.0;
  run_native(args, [&] { gflops = ck_fma_peak_probe(threads, seconds); });
  return Napi::Number::New(info.Env(), gflops);
}

// copyBandwidthProbe(bytes, threads, seconds) -> GB/s read plus written copying bytes / 2 into bytes / 2.
Napi::Value CopyBandwidthProbe(const Napi::CallbackInfo& info) {
  const Args args(info, "copyBandwidthProbe");
  const size_t bytes = args.dim(0, "bytes", 128);
  const size_t threads = args.dim(1, "threads", 1);
  if (threads > 256) args.range_error("threads must be at most 256, received " + std::to_string(threads));
  const double seconds = args.number(2, "seconds");
  if (!(seconds > 0 && seconds <= 10)) args.range_error("seconds must be in (0, 10], received " + std::to_string(seconds));
  double gbps = 0.0;
  run_native(args, [&] { gbps = ck_copy_bandwidth_probe(bytes, threads, seconds); });
  return Napi::Number::New(info.Env(), gbps);
}

// adviseHugePages(array: Float32Array) -> the bytes of it the kernel was asked to back with 2 MiB pages
// (runtime/malloc-tuning.h). For fresh blocks not yet written: advice changes how pages fault in, not contents.
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
  const Args args(info, "adviseHugePages");
  const F32 a = args.f32_out(0, "array");
  return Napi::Number::New(info.Env(), double(ck_advise_huge_pages(a.data, a.length * sizeof(float))));
}

// Node unloads an addon when the last environment that loaded it ends (the last worker_thread that imported
// convkit), but the compute thread and the pool threads outlive environments and would then run unmapped
// code. Opening ourselves once more with RTLD_NODELETE keeps the library mapped until the process exits.
void pin_in_memory() {
#if defined(__unix__) || defined(__APPLE__)
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&pin_in_memory), &self) != 0 && self.dli_fname != nullptr)
    dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pin_in_memory();
  ck_isa_current();  // choose the kernels (and print them under CONVKIT_DEBUG) at load
  ck_tune_malloc();
  exports.Set("nativeInfo", Napi::Function::New(env, NativeInfo, "nativeInfo"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("fmaPeakProbe", Napi::Function::New(env, FmaPeakProbe, "fmaPeakProbe"));
  exports.Set("copyBandwidthProbe", Napi::Function::New(env, CopyBandwidthProbe, "copyBandwidthProbe"));
  exports.Set("adviseHugePages", Napi::Function::New(env, AdviseHugePages, "adviseHugePages"));
  ck_register_matmul_ops(env, exports);
  ck_register_conv_ops(env, exports);
  ck_register_pool_ops(env, exports);
  ck_register_activation_ops(env, exports);
  ck_register_optimizer_ops(env, exports);
  ck_register_elementwise_ops(env, exports);
  ck_register_normalization_ops(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(convkit, Init)
