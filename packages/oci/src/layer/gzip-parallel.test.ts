import { execFileSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32, parallelGzip } from "./gzip-parallel.js";

async function gzipAll(chunks: Buffer[], opts: Parameters<typeof parallelGzip>[1]): Promise<Buffer> {
  async function* src() {
    yield* chunks;
  }
  const out: Buffer[] = [];
  for await (const c of parallelGzip(src(), opts)) out.push(c);
  return Buffer.concat(out);
}

function sample(n: number): Buffer {
  const b = Buffer.alloc(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    b[i] = (s >> 16) % 7 === 0 ? (s >> 8) & 0xff : 97 + (i % 13);
  }
  return b;
}

describe("parallelGzip", () => {
  const data = sample(700_001);
  const cases = [
    { name: "empty input", input: [] as Buffer[], blockSize: 65536 },
    { name: "one byte", input: [Buffer.from("x")], blockSize: 65536 },
    { name: "exactly one block", input: [data.subarray(0, 65536)], blockSize: 65536 },
    {
      name: "many blocks, odd chunking",
      input: [data.subarray(0, 1), data.subarray(1, 99_999), data.subarray(99_999)],
      blockSize: 65536,
    },
    { name: "blocks smaller than the 32 KiB window", input: [data], blockSize: 10_000 },
  ];
  for (const c of cases) {
    it(`${c.name}: gunzip and gzip -t accept it, output independent of concurrency`, async () => {
      const whole = Buffer.concat(c.input);
      const a = await gzipAll(c.input, { blockSize: c.blockSize, concurrency: 1 });
      const b = await gzipAll(c.input, { blockSize: c.blockSize, concurrency: 4 });
      expect(a.equals(b)).toBe(true);
      expect(gunzipSync(a).equals(whole)).toBe(true);
      expect(execFileSync("gzip", ["-dc"], { input: a }).equals(whole)).toBe(true);
    });
  }

  it("uses the dictionary so blocks compress almost like one stream", async () => {
    const small = await gzipAll([data], { blockSize: 65536 });
    const one = await gzipAll([data], { blockSize: 1 << 24 });
    expect(small.length).toBeLessThan(one.length * 1.02);
  });

  it("computes the standard CRC-32", () => {
    expect(crc32(Buffer.from("123456789"), 0)).toBe(0xcbf43926);
  });
});
