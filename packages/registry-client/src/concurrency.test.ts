import { describe, expect, it } from "vitest";
import { mapLimit } from "./concurrency.js";

describe("mapLimit", () => {
  it("keeps input order and never runs more than the limit at once", async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n, i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return `${i}:${n}`;
    });
    expect(out).toEqual(["0:5", "1:1", "2:4", "3:2", "4:3", "5:0"]);
    expect(peak).toBe(2);
  });

  it("rejects with the first failure after in-flight calls end, and starts no new ones", async () => {
    const started: number[] = [];
    const ended: number[] = [];
    const err = await mapLimit([0, 1, 2, 3, 4], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error("first fails");
      await new Promise((r) => setTimeout(r, 10));
      ended.push(n);
      return n;
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe("first fails");
    expect(started).toEqual([0, 1]);
    expect(ended).toEqual([1]);
  });

  it("rejects with the failure that came first in time, not the first in input order", async () => {
    const err = await mapLimit([0, 1], 2, async (n) => {
      if (n === 0) {
        await new Promise((r) => setTimeout(r, 10));
        throw new Error("stopped because 1 failed");
      }
      throw new Error("1 failed first");
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe("1 failed first");
  });

  it("handles an empty list", async () => {
    expect(await mapLimit([], 3, async () => 1)).toEqual([]);
  });
});
