#!/usr/bin/env node
// bench/hash-gzip.mjs — reproduces DESIGN.md's comparison on one core:
// sha256 with node:crypto vs @noble/hashes, gzip level 6 with node:zlib vs fflate,
// over a 64 MiB buffer of seeded, text-like data (compresses about 3:1 like
// source trees do). Prints one JSON line per result, then a table.
// Usage: node bench/hash-gzip.mjs   (env: MB=64, REPEAT=3)
import { createHash } from "node:crypto";
import { gzipSync as nodeGzipSync } from "node:zlib";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2";
import { gzipSync as fflateGzipSync } from "fflate";

const size = Number(process.env.MB ?? 64) * 1024 * 1024;
const repeat = Number(process.env.REPEAT ?? 3);

function textLike(n) {
  const words = [];
  let s = 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  for (let i = 0; i < 4096; i++) {
    let w = "";
    const len = 2 + (rnd() % 10);
    for (let j = 0; j < len; j++) w += String.fromCharCode(97 + (rnd() % 26));
    words.push(w);
  }
  const buf = Buffer.allocUnsafe(n);
  let pos = 0;
  while (pos < n) {
    const w = words[rnd() % words.length];
    pos += buf.write(rnd() % 12 === 0 ? `${w};\n` : `${w} `, pos, "latin1");
  }
  return buf;
}

const data = textLike(size);
const variants = [
  { op: "sha256", impl: "node:crypto", run: () => createHash("sha256").update(data).digest() },
  { op: "sha256", impl: "@noble/hashes", run: () => nobleSha256(data) },
  { op: "gzip-6", impl: "node:zlib", run: () => nodeGzipSync(data, { level: 6 }) },
  { op: "gzip-6", impl: "fflate", run: () => fflateGzipSync(data, { level: 6 }) },
];
const best = new Map();
for (let r = 0; r < repeat; r++) {
  for (const v of variants) {
    const t0 = process.hrtime.bigint();
    const out = v.run();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const mbps = size / 1e6 / seconds;
    const key = `${v.op} ${v.impl}`;
    best.set(key, Math.max(best.get(key) ?? 0, mbps));
    console.log(
      JSON.stringify({
        bench: "hash-gzip",
        op: v.op,
        impl: v.impl,
        run: r,
        bytes: size,
        seconds: +seconds.toFixed(3),
        mb_per_s: +mbps.toFixed(1),
        output_bytes: out.length,
      }),
    );
  }
}
console.log(`\n${size / 1024 / 1024} MiB text-like buffer, one core, best of ${repeat}`);
console.log(`${"operation".padEnd(24)} ${"MB/s".padStart(8)}`);
for (const [k, v] of best) console.log(`${k.padEnd(24)} ${v.toFixed(0).padStart(8)}`);
