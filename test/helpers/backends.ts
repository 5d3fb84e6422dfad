import { loadNative, nativeInfo, setNativeIsa, setNativeThreads } from '../../src/native.js';

/**
 * Slow end-to-end suites run once, on the best ISA: CI runs npm test again under each forced ISA
 * (CONVKIT_ISA), where only the kernel and parity suites have something new to check.
 */
export const onBestIsaRun = process.env.CONVKIT_ISA === undefined;

/**
 * True when AddressSanitizer is preloaded (CI runs the crash tests against a sanitized addon): its allocator
 * keeps freed memory in quarantine, so RSS bounds say nothing there.
 */
export const underAsan = /libasan/.test(process.env.LD_PRELOAD ?? '');

/** True when the addon loaded; parity suites skip (and say why) otherwise. */
export const nativeAvailable = loadNative().addon !== undefined;
export const nativeSkipReason = loadNative().error?.message ?? '';

/**
 * The native configurations every parity test runs under: each ISA the CPU has (or only the one
 * CONVKIT_ISA forces) at 1 thread and at 2 threads.
 */
export function nativeVariants(): { isa: string; threads: number; label: string }[] {
  if (!nativeAvailable) return [];
  const forced = process.env.CONVKIT_ISA;
  const isas = forced ? [nativeInfo().isa] : nativeInfo().availableIsas;
  return isas.flatMap((isa) => [1, 2].map((threads) => ({ isa, threads, label: `${isa} x${threads}` })));
}

export function useNativeVariant(v: { isa: string; threads: number }): void {
  setNativeIsa(v.isa);
  setNativeThreads(v.threads);
}
