import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readAhead } from "./read-ahead.js";

/** source is a byte stream whose chunk `i` is `size` bytes of value i; it can fail or close early at `stopAt`. */
function source(n: number, size: number, log: string[], stop?: { at: number; error?: Error }): Readable {
  let i = 0;
  return new Readable({
    highWaterMark: size,
    read() {
      if (i === stop?.at) {
        this.destroy(stop.error);
        return;
      }
      if (i === n) {
        this.push(null);
        return;
      }
      log.push(`produce ${i}`);
      setImmediate(() => this.push(Buffer.alloc(size, i++)));
    },
    destroy(err, cb) {
      log.push("source closed");
      cb(err);
    },
  });
}

describe("readAhead", () => {
  it("passes every chunk through in order", async () => {
    const seen: number[] = [];
    for await (const c of readAhead(source(10, 4, []), 100)) seen.push(c[0] as number);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("hands buffered chunks over as they came, never concatenated (the stream's own iterator copies)", async () => {
    const chunks = Array.from({ length: 8 }, (_, i) => Buffer.alloc(1000, i));
    const stream = new Readable({ read() {} });
    for (const c of chunks) stream.push(c);
    stream.push(null);
    const seen: Buffer[] = [];
    for await (const c of readAhead(stream, 1 << 20)) seen.push(c);
    expect(seen).toHaveLength(8);
    for (const [i, c] of seen.entries()) expect(c).toBe(chunks[i]);
  });

  it("reads ahead while the consumer is busy, but not far past the limit", async () => {
    const log: string[] = [];
    const it = readAhead(source(20, 10, log), 30);
    await it.next();
    await new Promise((r) => setTimeout(r, 50));
    const produced = log.filter((l) => l.startsWith("produce")).length;
    // One handed out, about 30 bytes (3 chunks) queued, a few more in flight: far from all 20.
    expect(produced).toBeGreaterThanOrEqual(3);
    expect(produced).toBeLessThanOrEqual(8);
    await it.return(undefined);
  });

  it.each([
    ["an error", new Error("source failed at 3"), /source failed at 3/],
    ["a close before the end", undefined, /closed before its end/],
  ])("delivers the chunks before %s, then fails", async (_name, error, message) => {
    const seen: number[] = [];
    const stream = source(10, 4, [], { at: 3, ...(error ? { error } : {}) });
    await expect(
      (async () => {
        for await (const c of readAhead(stream, 100)) seen.push(c[0] as number);
      })(),
    ).rejects.toThrow(message);
    expect(seen).toEqual([0, 1, 2]);
  });

  it("destroys the stream when the consumer stops early", async () => {
    const log: string[] = [];
    for await (const c of readAhead(source(100, 4, log), 16)) {
      if (c[0] === 2) break;
    }
    expect(log).toContain("source closed");
    expect(log.filter((l) => l.startsWith("produce")).length).toBeLessThan(100);
  });
});
