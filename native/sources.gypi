# The one source list: binding.gyp includes this file, CMakeLists.txt parses it (file(READ) + regex).
# Paths are relative to the package root. Keep one quoted path per line; ISA groups get only their own flags.
{
  'variables': {
    'ck_common_sources': [
      'native/runtime/conv-depthwise.cc',
      'native/runtime/conv.cc',
      'native/runtime/cpu.cc',
      'native/runtime/dispatch.cc',
      'native/runtime/elementwise.cc',
      'native/runtime/gemm.cc',
      'native/runtime/parallel.cc',
      'native/runtime/pool.cc',
      'native/runtime/scratch.cc',
    ],
    'ck_scalar_sources': [
      'native/kernels/f32-gemm/f32-gemm-4x8-scalar.cc',
      'native/kernels/f32-softmax/f32-softmax-scalar.cc',
      'native/kernels/f32-vbinary/f32-vbinary-scalar.cc',
      'native/kernels/f32-vunary/f32-vunary-scalar.cc',
      'native/runtime/target-flags-scalar.cc',
    ],
    'ck_avx2_sources': [
      'native/kernels/f32-gemm/f32-gemm-6x16-avx2-fma.cc',
      'native/kernels/f32-softmax/f32-softmax-avx2.cc',
      'native/kernels/f32-vbinary/f32-vbinary-avx2.cc',
      'native/kernels/f32-vunary/f32-vunary-avx2.cc',
      'native/runtime/target-flags-avx2.cc',
    ],
    'ck_avx512_sources': [
      'native/kernels/f32-gemm/f32-gemm-14x32-avx512f.cc',
      'native/kernels/f32-softmax/f32-softmax-avx512f.cc',
      'native/kernels/f32-vbinary/f32-vbinary-avx512f.cc',
      'native/kernels/f32-vunary/f32-vunary-avx512f.cc',
      'native/runtime/target-flags-avx512f.cc',
    ],
    'ck_binding_sources': [
      'native/binding/addon.cc',
      'native/binding/async.cc',
      'native/binding/marshal.cc',
      'native/binding/ops-activation.cc',
      'native/binding/ops-conv.cc',
      'native/binding/ops-matmul.cc',
      'native/binding/ops-pool.cc',
    ],
    'ck_test_sources': [
      'native/tests/conv-test.cc',
      'native/tests/gemm-test.cc',
      'native/tests/main.cc',
      'native/tests/ops-test.cc',
    ],
    'ck_common_flags': ['-O3', '-ffp-contract=off', '-fPIC'],
    'ck_avx2_flags': ['-mavx2', '-mfma'],
    'ck_avx512_flags': ['-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl', '-mfma'],
  },
}
