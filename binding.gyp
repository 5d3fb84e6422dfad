{
  'includes': ['native/sources.gypi'],
  'target_defaults': {
    'include_dirs': ['native', 'native/include'],
    'cflags': ['<@(ck_common_flags)'],
    'cflags!': ['-O2'],
    'cflags_cc': ['-std=c++17'],
    'cflags_cc!': ['-fno-exceptions', '-std=gnu++17'],
    'conditions': [['target_arch=="x64"', {'defines': ['CK_X86_KERNELS=1']}]],
  },
  'targets': [
    {
      'target_name': 'ck_scalar',
      'type': 'static_library',
      'sources': ['<@(ck_scalar_sources)'],
    },
    {
      'target_name': 'convkit',
      'sources': ['<@(ck_common_sources)', '<@(ck_binding_sources)'],
      'dependencies': [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
        'ck_scalar',
      ],
      'conditions': [['target_arch=="x64"', {'dependencies': ['ck_avx2', 'ck_avx512']}]],
      # A C++ exception that cannot become a JS one (the environment is being torn down) is dropped, not fatal.
      'defines': ['NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'],
      'libraries': ['-pthread', '-ldl'],
      'ldflags': ['-pthread'],
    },
  ],
  # The AVX2 and AVX-512 kernel libraries exist on x86-64 only; elsewhere the addon is scalar.
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'ck_avx2',
          'type': 'static_library',
          'sources': ['<@(ck_avx2_sources)'],
          'cflags': ['<@(ck_avx2_flags)'],
        },
        {
          'target_name': 'ck_avx512',
          'type': 'static_library',
          'sources': ['<@(ck_avx512_sources)'],
          # GCC 12's avx512fintrin.h trips -Wall's uninitialized checks on its own _mm512_undefined_* (GCC PR 105593).
          'cflags': ['<@(ck_avx512_flags)', '-Wno-uninitialized', '-Wno-maybe-uninitialized'],
        },
      ],
    }],
  ],
}
