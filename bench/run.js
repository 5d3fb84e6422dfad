// `npm run bench`: the FMA peak probe, SGEMM, conv2d layers and whole networks, each printed with its
// ratio to this machine's measured peak and to the contenders measured in the same run.
// Usage: node bench/run.js [gemm] [conv] [variants] [nets] [import] [queue] [serve] [--no-contenders] [--threads 1,2]
import os from 'node:os';
import { convkit, measurePeak } from './lib/convkit.js';
import { fmt, printTable } from './lib/harness.js';
import { benchGemm } from './gemm.js';
import { benchConv } from './conv.js';

const args = process.argv.slice(2);
const sections = args.filter((a) => !a.startsWith('--') && !/^[\d,]+$/.test(a));
const want = (s) => sections.length === 0 || sections.includes(s);
const contenders = !args.includes('--no-contenders');
const ti = args.indexOf('--threads');
const maxThreads = convkit.nativeInfo().threads;
const threadCounts = ti >= 0 ? args[ti + 1].split(',').map(Number) : [...new Set([1, maxThreads])];

const info = convkit.nativeInfo();
console.log(`convkit bench: ${os.cpus()[0].model}, ${os.cpus().length} cores, node ${process.version}`);
console.log(`native: isa ${info.isa}, threads ${info.threads}, compiler ${info.compiler}`);
const { cpu, gemmTile } = info;
const kib = (b) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : `${b / 1024} KiB`);
console.log(`cpu: ${cpu.model} (${cpu.vendor} family ${cpu.family} model ${cpu.modelNumber}: ${cpu.microarchitecture}), L1d ${kib(cpu.l1dBytes)}, L2 ${kib(cpu.l2Bytes)}, L3 ${kib(cpu.l3Bytes)}, AVX-512 FMA width ${cpu.avx512FmaWidth || 'none'}`);
const tile = (t) => `${t.mr}x${t.nr} KC ${t.kc} MC ${t.mc} NC ${t.nc}`;
console.log(`gemm blocking: ${tile(gemmTile.wide)}; narrow ${tile(gemmTile.narrow)}; A read in place up to ${gemmTile.inPlacePanels} column panels`);
console.log(`direct convolution kernels: forward ${info.directConv.forward ? 'yes' : 'no'}, filter gradient ${info.directConv.gradient ? 'yes' : 'no'}`);
const wino = (list) => list.map((w) => `F(${w.outputBlock}x${w.outputBlock}, ${w.kernel}x${w.kernel}) from ${w.minChannels} channels / ${w.minPixels} pixels`).join(', ');
console.log(`Winograd: forward and backward-input ${wino(info.winograd.forward)}; filter gradient ${wino(info.winograd.filterGradient)}`);

// The peak is probed again before each section and the highest reading so far is kept: other tenants share
// this machine's FMA units, and one disturbed reading would otherwise inflate every ratio printed after it.
const peaks = {};
function probePeaks(section) {
  for (const t of threadCounts) peaks[t] = Math.max(peaks[t] ?? 0, measurePeak(t) ?? 0) || undefined;
  printTable(`FMA peak before ${section} (independent vector FMA chains, fp32; the highest reading of the run so far)`, ['threads', 'GFLOP/s'], threadCounts.map((t) => [t, fmt(peaks[t])]));
}

if (want('gemm')) {
  probePeaks('SGEMM');
  benchGemm({ threadCounts, peaks });
}
if (want('conv')) {
  probePeaks('conv2d');
  await benchConv({ threadCounts, peaks, contenders });
}
if (want('variants')) {
  probePeaks('convolution variants');
  const { benchVariants } = await import('./variants.js');
  await benchVariants({ threadCounts, peaks, contenders });
}
if (want('import')) {
  const { benchImport } = await import('./import.js');
  await benchImport({ threadCounts, contenders });
}
if (want('queue')) {
  const { benchQueue } = await import('./queue.js');
  await benchQueue({ threadCounts });
}
if (want('serve')) {
  const serve = await import('./serve.js');
  await serve.benchEventLoop({ contenders });
  await serve.benchBatcher();
  await serve.benchServer();
  await serve.benchMemory();
}
if (want('nets')) {
  probePeaks('whole networks');
  const { benchNetworks } = await import('./networks.js');
  await benchNetworks({ threadCounts, peaks, contenders });
}
