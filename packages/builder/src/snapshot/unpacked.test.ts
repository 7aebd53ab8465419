import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, lstatSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { LayerEntry } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeLayerFile } from "../testing/busybox.js";
import { UnpackedLayers } from "./unpacked.js";

/** UnpackedLayers against hostile layers, as root (the rootless unpack is in test/run-unprivileged.test.ts). */
describe("UnpackedLayers with a hostile layer", () => {
  let work: string;
  let outside: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "tsbuild-unpacked-test-"));
    outside = join(work, "outside");
    await mkdir(join(outside, "victim"), { recursive: true });
    execFileSync("sh", ["-c", `echo keep > ${outside}/victim/file`]);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("takes a relative root (the store's --root may be one) and hands out absolute directories", async () => {
    const blob = join(work, "plain.tar.gz");
    const id = await writeLayerFile(blob, [
      { path: "d", type: "dir" },
      { path: "d/.wh.x", type: "file" },
    ]);
    const cache = new UnpackedLayers(relative(process.cwd(), join(work, "rel-layers")));
    const dir = await cache.ensure(id, undefined, async () => createReadStream(blob));
    expect(dir).toBe(join(work, "rel-layers", id.slice(7)));
    expect(lstatSync(join(dir, "d/x")).isCharacterDevice()).toBe(true);
  });

  it("never writes, deletes or marks anything outside its directory through symlinks", async () => {
    const entries: LayerEntry[] = [
      { path: "evil", type: "symlink", linkname: outside },
      { path: "rel", type: "symlink", linkname: "../../../../../../../../" + outside.slice(1) },
      { path: "evil/victim/.wh.file", type: "file" },
      { path: "rel/victim/.wh..wh..opq", type: "file" },
      { path: "evil/.wh..wh..opq", type: "file" },
      { path: "evil/dropped", type: "file", content: "x" },
    ];
    const blob = join(work, "evil.tar.gz");
    const id = await writeLayerFile(blob, entries);
    const warnings: string[] = [];
    const cache = new UnpackedLayers(join(work, "layers"), { onWarning: (m) => warnings.push(m) });
    const dir = await cache.ensure(id, undefined, async () => createReadStream(blob)).catch((e: Error) => e);
    // Outside is untouched whatever the unpack made of it.
    expect(readdirSync(outside).sort()).toEqual(["victim"]);
    expect(readdirSync(join(outside, "victim"))).toEqual(["file"]);
    expect(
      execFileSync("getfattr", ["-d", "-m", "-", "--absolute-names", join(outside, "victim")], {
        encoding: "utf8",
      }),
    ).toBe("");
    if (typeof dir === "string") {
      expect(lstatSync(join(dir, "evil")).isSymbolicLink()).toBe(true);
      expect(existsSync(join(dir, "evil/dropped"))).toBe(existsSync(join(outside, "dropped")));
    }
    expect(existsSync(join(outside, "dropped"))).toBe(false);
  });
});
