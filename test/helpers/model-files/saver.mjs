// Saves two different models (the tutorial network with seeds 1 and 2, untrained) into argv[2] in turn, for
// ever, printing "saved" after each save; the parent kills it at a random moment. With argv[3] = "once", saves
// model argv[4] (1 or 2) once and exits.
import { architectures } from '../../../dist/src/index.js';

const [dir, mode, which] = process.argv.slice(2);
const models = [architectures.tutorial({ seed: 1 }), architectures.tutorial({ seed: 2 })];
if (mode === 'once') {
  await models[Number(which) - 1].save(dir);
} else {
  for (let i = 0; ; i++) {
    await models[i % 2].save(dir);
    process.stdout.write('saved\n');
  }
}
