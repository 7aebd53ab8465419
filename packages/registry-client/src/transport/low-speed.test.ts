import { once } from "node:events";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { watchResponseBody } from "./low-speed.js";

describe("watchResponseBody", () => {
  it("does not blame the peer for a window this process slept through, and still fails a silent one", async () => {
    const body = new PassThrough();
    const failed = once(body, "error");
    watchResponseBody(body, { bytesPerSecond: 1024, windowMs: 100 }, () => new Error("too slow"));
    // The event loop is blocked past the window: the check wakes late and starts a fresh window.
    const start = performance.now();
    while (performance.now() - start < 300) {
      // busy
    }
    await sleep(20);
    expect(body.destroyed).toBe(false);
    // Then a window with no byte at all, while the process runs, fails the body.
    expect(((await failed)[0] as Error).message).toBe("too slow");
  });

  it("stops watching at the end of the body, even one nobody has read yet (a HEAD's, an empty one)", async () => {
    const body = new PassThrough();
    watchResponseBody(body, { bytesPerSecond: 1024, windowMs: 50 }, () => new Error("too slow"));
    body.end();
    await sleep(200);
    expect(body.destroyed).toBe(false);
    expect(await body.toArray()).toEqual([]);
  });
});
