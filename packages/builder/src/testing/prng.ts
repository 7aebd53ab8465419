/**
 * Test support shared by the builder's fuzz tests (src/testing is excluded from the build, like
 * `*.test.ts`): a seeded PRNG, so a failing random case reproduces from its seed.
 */

/** Random is a function returning floats in [0, 1). */
export type Random = () => number;

/** mulberry32 is a tiny seeded PRNG (32-bit state). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** pick returns a random element of a non-empty list. */
export function pick<T>(random: Random, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}
