/**
 * Derives independent seeds from a base seed and a path of integers (layer index, epoch, batch, ...), so every
 * random stream in training is a pure function of where it is used. No stream carries state across calls,
 * which is what lets a run resumed from a checkpoint draw exactly the numbers an uninterrupted run would.
 */
export function deriveSeed(seed: number, ...path: number[]): number {
  // murmur3's 32-bit finalizer over each component: cheap, and nearby inputs land far apart.
  let h = Math.trunc(seed) >>> 0;
  for (const p of [...path, path.length]) {
    h = (h ^ (Math.trunc(p) >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = (h + 0x9e3779b9) >>> 0;
  }
  return h;
}
