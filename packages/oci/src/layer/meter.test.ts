import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { entryDiskSize, type LayerEntry } from "./entry.js";
import { LayerMeter } from "./meter.js";
import { tarEntries } from "./reader.js";
import { createLayer } from "./writer.js";

async function layer(entries: LayerEntry[], compression: "gzip" | "none" = "gzip"): Promise<Buffer> {
  const made = createLayer({ entries }, { compression });
  const chunks: Buffer[] = [];
  for await (const c of made.stream) chunks.push(c as Buffer);
  await made.result;
  return Buffer.concat(chunks);
}

/** measure feeds `blob` in 1000-byte chunks, waiting when the meter asks, and ends it at `size`. */
async function measure(blob: Buffer, meter = new LayerMeter(), size = blob.length) {
  for (let i = 0; i < blob.length; i += 1000) await meter.write(blob.subarray(i, i + 1000));
  return meter.end(size);
}

const FILES: LayerEntry[] = [
  { path: "d", type: "dir" },
  { path: "d/a", type: "file", content: "a".repeat(70_000) },
  { path: "d/h", type: "hardlink", linkname: "d/a" },
  { path: "d/l", type: "symlink", linkname: "abc" },
];

describe("LayerMeter", () => {
  it.each(["gzip", "none"] as const)("measures docker's SIZE of a %s layer as it streams", async (c) => {
    expect(await measure(await layer(FILES, c))).toBe(70_003);
  });

  it("gives undefined for a blob that is not a tar layer (a config, random bytes), or not fed whole", async () => {
    expect(await measure(Buffer.from('{"architecture":"amd64","os":"linux"}'))).toBeUndefined();
    expect(await measure(randomBytes(5000))).toBeUndefined();
    expect(await measure(gzipSync(randomBytes(5000)))).toBeUndefined();
    const gz = await layer(FILES);
    expect(await measure(gz, new LayerMeter(), gz.length + 1)).toBeUndefined();
  });

  it("stops at the cap: a layer unpacking to more than maxTarBytes (a gzip bomb) is not measured", async () => {
    const bomb = await layer([{ path: "zeros", type: "file", content: Buffer.alloc(8 << 20) }]);
    expect(bomb.length).toBeLessThan(100_000);
    expect(await measure(bomb, new LayerMeter({ maxTarBytes: (n) => 32 * n }))).toBeUndefined();
    expect(await measure(bomb, new LayerMeter({ maxTarBytes: () => 9 << 20 }))).toBe(8 << 20);
  });

  it.each(["gnu", "pax", "ustar"])(
    "agrees with decoding every entry on GNU tar's %s format (long names and link targets, hardlinks)",
    async (format) => {
      const dir = await mkdtemp(join(tmpdir(), "meter-"));
      const long = "x".repeat(150);
      await mkdir(join(dir, long.slice(0, 90)), { recursive: true });
      await writeFile(join(dir, long.slice(0, 90), "f"), randomBytes(3000));
      await writeFile(join(dir, "small"), "hi\n");
      await symlink(format === "ustar" ? "t".repeat(99) : `${long}/${long}`, join(dir, "link"));
      execFileSync("ln", [join(dir, "small"), join(dir, "hard")]);
      const tar = execFileSync("tar", [`--format=${format}`, "-cf", "-", "-C", dir, "."]);
      let want = 0;
      for await (const { info } of tarEntries(Readable.from([tar]))) want += entryDiskSize(info);
      expect(want).toBeGreaterThan(3003);
      expect(await measure(tar)).toBe(want);
      expect(await measure(gzipSync(tar))).toBe(want);
    },
  );
});
