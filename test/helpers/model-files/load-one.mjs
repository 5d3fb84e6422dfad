// Loads each model path of argv in this process and prints one JSON line each: {"ok": true, "ms", "maxRssMiB"} or
// {"ok": false, "convkitError": bool, "where": ..., "message": ...}. The parent runs it under a memory cap and a
// timeout, so a crash, a hang or an allocation the files cannot back shows as a signal, a kill or an exit code.
import { loadModel, ConvkitError } from '../../../dist/src/index.js';

const dirs = process.argv.slice(2);
for (const dir of dirs) {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  try {
    await loadModel(dir);
    console.log(JSON.stringify({ dir, ok: true, ms: ms(), maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  } catch (e) {
    console.log(JSON.stringify({ dir, ok: false, convkitError: e instanceof ConvkitError, where: e?.where, message: String(e?.message ?? e), ms: ms(), maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  }
}
