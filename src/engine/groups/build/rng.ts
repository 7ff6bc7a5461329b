/**
 * Seeded randomness for the groups builder. Each (seed, problem, purpose)
 * gets its own stream, derived by hashing, so a problem's perturbations do
 * not depend on which other problems were built before it (a resumed or
 * re-sliced build gives the same records).
 */
import { createHash } from 'node:crypto';

export type Rng = () => number;

/** mulberry32: a small, well-known 32-bit generator; enough for picking among candidates. */
function mulberry32(state: number): Rng {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The stream for one purpose, e.g. streamFor(7, "math_gsm8k_000012", "arithmetic_error"). */
export function streamFor(seed: number, ...parts: string[]): Rng {
  const digest = createHash('sha256')
    .update([String(seed), ...parts].join('\0'))
    .digest();
  return mulberry32(digest.readUInt32LE(0));
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
