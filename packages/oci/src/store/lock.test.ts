import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOciError } from "../errors.js";
import { withFileLock } from "./lock.js";

let dir: string;
let lock: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lock-test-"));
  lock = join(dir, "index.json.lock");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A pid above Linux's pid_max ceiling (2^22) never belongs to a live process.
const DEAD_PID = 4194305;

describe("withFileLock", () => {
  it("holds the lock with our pid during fn and removes it after, also on error", async () => {
    await withFileLock(lock, async () => {
      expect(await readFile(lock, "utf8")).toBe(String(process.pid));
    });
    expect(await readdir(dir)).toEqual([]);
    await expect(
      withFileLock(lock, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await readdir(dir)).toEqual([]);
  });

  it("serialises concurrent holders", async () => {
    let inside = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withFileLock(lock, async () => {
          inside++;
          max = Math.max(max, inside);
          await new Promise((r) => setTimeout(r, 1));
          inside--;
        }),
      ),
    );
    expect(max).toBe(1);
  });

  it("breaks a stale lock left by a dead process", async () => {
    await writeFile(lock, String(DEAD_PID));
    expect(await withFileLock(lock, async () => "ran", { timeoutMs: 5_000 })).toBe("ran");
    expect(await readdir(dir)).toEqual([]);
  });

  it("times out with LOCK_TIMEOUT while a live process holds it", async () => {
    await writeFile(lock, String(process.pid));
    const err = await withFileLock(lock, async () => "ran", { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(isOciError(err, "LOCK_TIMEOUT")).toBe(true);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    expect(await readFile(lock, "utf8")).toBe(String(process.pid));
  });
});
