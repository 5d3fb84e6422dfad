export type Json = Record<string, unknown>;

/** Every [path, parent, key] in a JSON tree (what the fuzz suites mutate). */
export function paths(v: unknown, at: string[] = [], out: [string[], Json | unknown[], string | number][] = []): [string[], Json | unknown[], string | number][] {
  if (v && typeof v === 'object') {
    for (const [k, child] of Object.entries(v as Json)) {
      out.push([[...at, k], v as Json, Array.isArray(v) ? Number(k) : k]);
      paths(child, [...at, k], out);
    }
  }
  return out;
}
