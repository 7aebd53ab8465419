import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { digestHex } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importTree, readImage, tsb } from "../packages/cli/src/commands/__fixtures__/image.js";
import { tempDir } from "../packages/cli/src/testing.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

/**
 * issue 7: the first `image ls` after pulling a gzip bomb took 14.6 s because
 * listing inflated the layers. Pull and load now measure a layer's unpacked
 * size as it streams in and record it, so `ls` only reads small files.
 */
describe("layer sizes are recorded when pulled or loaded", () => {
  let registry: TestRegistry;
  let src: string;
  let name: string;
  let recorded: { file: string; text: string }[];

  beforeAll(async () => {
    registry = await startRegistry();
    src = await tempDir();
    name = `${registry.host}/sizes/app:1`;
    await importTree(src, name);
    expect((await tsb(src, ["push", name])).code).toBe(0);
    const img = await readImage(src, name);
    recorded = await Promise.all(
      img.manifest.layers.map(async (l) => {
        const file = join("layer-sizes", "sha256", digestHex(l.digest));
        return { file, text: await readFile(join(src, file), "utf8") };
      }),
    );
    expect(recorded.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await registry?.stop();
    if (src) await rm(src, { recursive: true, force: true });
  });

  async function expectRecorded(root: string): Promise<void> {
    for (const { file, text } of recorded) expect(await readFile(join(root, file), "utf8")).toBe(text);
    const ls = await tsb(root, ["image", "ls", "--format", "{{.Size}}"]);
    const source = await tsb(src, ["image", "ls", "--format", "{{.Size}}"]);
    expect(ls.stdout).toBe(source.stdout);
  }

  it("pull", async () => {
    const root = await tempDir();
    const r = await tsb(root, ["pull", name]);
    expect(r.stderr).toBe("");
    await expectRecorded(root);
  });

  it("load", async () => {
    const tar = join(await tempDir(), "app.tar");
    expect((await tsb(src, ["save", "-o", tar, name])).code).toBe(0);
    const root = await tempDir();
    expect((await tsb(root, ["load", "-i", tar])).code).toBe(0);
    await expectRecorded(root);
  });
});
