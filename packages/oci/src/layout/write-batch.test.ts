import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OciLayout } from "./layout.js";

// writeBlob gathers stream chunks into 1 MiB writev batches with one write in flight;
// these cases cross batch boundaries, exceed IOV_MAX (1024 buffers) per batch, and mix sizes.
describe("OciLayout.writeBlob batching", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-batch-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["5,000 chunks of 100 bytes", Array.from({ length: 5000 }, () => 100)],
    ["20,000 chunks of 7 bytes (over 1,024 buffers per batch)", Array.from({ length: 20_000 }, () => 7)],
    ["three 3 MB chunks", [3_000_000, 3_000_000, 3_000_000]],
    ["mixed sizes around the batch size", [1, 1_048_575, 1, 1_048_576, 65_536, 0, 2_000_001, 5]],
  ])("stores %s intact", async (_name, sizes) => {
    const layout = await OciLayout.open(dir, { create: true });
    const parts = sizes.map((n) => randomBytes(n));
    const all = Buffer.concat(parts);
    const digest = `sha256:${createHash("sha256").update(all).digest("hex")}`;
    async function* source(): AsyncGenerator<Buffer> {
      for (const p of parts) yield p;
    }
    const written = await layout.writeBlob(source(), { digest, size: all.length });
    expect(written).toEqual({ digest, size: all.length });
    expect((await readFile(layout.blobPath(written.digest))).equals(all)).toBe(true);
  });

  it("leaves no file when the source fails after some batches were written", async () => {
    const layout = await OciLayout.open(dir, { create: true });
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 40; i++) yield randomBytes(100_000);
      throw new Error("network gone");
    }
    await expect(layout.writeBlob(source())).rejects.toThrow("network gone");
    expect(await layout.listBlobs()).toEqual([]);
    const temps = await readdir(join(dir, ".tmp")).catch(() => []);
    expect(temps.filter((n) => n.startsWith("blob"))).toEqual([]);
  });
});
