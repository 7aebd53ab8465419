import { describe, expect, it } from "vitest";
import { readAhead } from "./read-ahead.js";

async function* chunks(n: number, size: number, log: string[], failAt?: number): AsyncGenerator<Buffer> {
  try {
    for (let i = 0; i < n; i++) {
      if (i === failAt) throw new Error(`source failed at ${i}`);
      log.push(`produce ${i}`);
      yield Buffer.alloc(size, i);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    log.push("source closed");
  }
}

describe("readAhead", () => {
  it("passes every chunk through in order, without copying", async () => {
    const log: string[] = [];
    const seen: number[] = [];
    for await (const c of readAhead(chunks(10, 4, log), 100)) seen.push(c[0] as number);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("reads ahead while the consumer is busy, but not past the limit", async () => {
    const log: string[] = [];
    const it = readAhead(chunks(20, 10, log), 30);
    await it.next();
    await new Promise((r) => setTimeout(r, 30));
    const produced = log.filter((l) => l.startsWith("produce")).length;
    // one handed out, up to 30 bytes (3 chunks) queued, and one more may be in flight
    expect(produced).toBeGreaterThanOrEqual(3);
    expect(produced).toBeLessThanOrEqual(5);
    await it.return(undefined);
  });

  it("delivers the chunks before a source error, then the error", async () => {
    const log: string[] = [];
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const c of readAhead(chunks(10, 4, log, 3), 100)) seen.push(c[0] as number);
      })(),
    ).rejects.toThrow("source failed at 3");
    expect(seen).toEqual([0, 1, 2]);
  });

  it("closes the source when the consumer stops early", async () => {
    const log: string[] = [];
    for await (const c of readAhead(chunks(100, 4, log), 16)) {
      if (c[0] === 2) break;
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toContain("source closed");
    expect(log.filter((l) => l.startsWith("produce")).length).toBeLessThan(100);
  });
});
