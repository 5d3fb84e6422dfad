// Loads the model directory argv[2] in this process and prints one JSON line: {"ok": true, "maxRssMiB": n} or
// {"ok": false, "convkitError": bool, "where": ..., "message": ...}. The parent runs it under a memory cap and a
// timeout, so a crash, a hang or an allocation the files cannot back shows as a signal, a kill or an exit code.
import { loadModel, ConvkitError } from '../../../dist/src/index.js';

const dirs = process.argv.slice(2);
for (const dir of dirs) {
  try {
    await loadModel(dir);
    console.log(JSON.stringify({ dir, ok: true, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  } catch (e) {
    console.log(JSON.stringify({ dir, ok: false, convkitError: e instanceof ConvkitError, where: e?.where, message: String(e?.message ?? e), maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  }
}
