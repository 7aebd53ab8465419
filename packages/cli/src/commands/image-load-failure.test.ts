import { execFileSync } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson, digestOf } from "@tsbuild/oci";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, makeTree, readImage, tsb } from "./__fixtures__/image.js";

/**
 * A failed `image load` or `image import` leaves the store as it was: no
 * index entry, no blob kept (not even the layers of images that were fine),
 * no lease; the error says what was wrong and in which file.
 */

/** storeState is what a failed command must not change: index entries and blob files. */
async function storeState(root: string): Promise<{ manifests: unknown[]; blobs: string[]; tmp: string[] }> {
  const index = JSON.parse(await readFile(join(root, "index.json"), "utf8"));
  const blobs = (await readdir(join(root, "blobs/sha256")).catch(() => [])).sort();
  const tmp = await readdir(join(root, ".tmp")).catch(() => []);
  return { manifests: index.manifests, blobs, tmp };
}

/** twoImageArchive saves two images with different layers and unpacks the archive into a directory. */
async function twoImageArchive(): Promise<{ dir: string; second: Awaited<ReturnType<typeof readImage>> }> {
  const root = await tempDir();
  await importTree(root, "first");
  const tree = await makeTree();
  await writeFile(join(tree, "extra"), "only in the second image\n");
  await tsb(root, ["import", tree, "second"]);
  const work = await tempDir();
  const tar = join(work, "two.tar");
  expect((await tsb(root, ["save", "-o", tar, "first", "second"])).code).toBe(0);
  const dir = join(work, "x");
  execFileSync("mkdir", [dir]);
  execFileSync("tar", ["-xf", tar, "-C", dir]);
  return { dir, second: await readImage(root, "second") };
}

/** swapManifest puts `manifest` into the unpacked archive in place of the manifest `old` (blob and index.json entry). */
async function swapManifest(dir: string, old: string, manifest: Buffer): Promise<void> {
  await writeFile(join(dir, "blobs", digestOf(manifest).replace(":", "/")), manifest);
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
  for (const m of index.manifests) {
    if (m.digest === old) Object.assign(m, { digest: digestOf(manifest), size: manifest.length });
  }
  await writeFile(join(dir, "index.json"), JSON.stringify(index));
}

function retar(dir: string): string {
  const out = `${dir}.tar`;
  execFileSync("tar", ["-cf", out, "-C", dir, "."]);
  return out;
}

async function expectNothingLeft(root: string, args: string[], error: RegExp): Promise<void> {
  const before = await storeState(root);
  const r = await tsb(root, args);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(error);
  expect(await storeState(root)).toEqual(before);
}

describe("a failed load or import leaves nothing behind", () => {
  it("load: a layer of the second image does not match its digest (the first image's layers go too)", async () => {
    const { dir, second } = await twoImageArchive();
    const layer = join(dir, "blobs", second.manifest.layers[0]!.digest.replace(":", "/"));
    const bytes = await readFile(layer);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(layer, bytes);
    const root = await tempDir();
    await importTree(root, "kept");
    await expectNothingLeft(root, ["load", "-i", retar(dir)], /digest|hashes/i);
    expect((await tsb(root, ["images", "--format", "{{.Repository}}"])).stdout).toBe("kept\n");
  });

  it("load: a malformed config names the archive member and the field", async () => {
    const { dir, second } = await twoImageArchive();
    // Rewrite the second image's config without "os", and its manifest and index entry to match.
    const config = { ...second.config } as Record<string, unknown>;
    delete config.os;
    const cfg = canonicalJson(config);
    const manifest = canonicalJson({
      ...second.manifest,
      config: { ...second.manifest.config, digest: digestOf(cfg), size: cfg.length },
    });
    await writeFile(join(dir, "blobs", digestOf(cfg).replace(":", "/")), cfg);
    await swapManifest(dir, second.manifestDigest, manifest);
    const root = await tempDir();
    await importTree(root, "kept");
    const where = `${dir}.tar:blobs/sha256/${digestOf(cfg).slice(7)}`;
    await expectNothingLeft(root, ["load", "-i", retar(dir)], new RegExp(`^Error: ${where}: config.os: `));
  });

  it("load: a manifest with a negative layer size names the manifest blob and the field", async () => {
    const { dir, second } = await twoImageArchive();
    const manifest = canonicalJson({
      ...second.manifest,
      layers: [{ ...second.manifest.layers[0]!, size: -1 }],
    });
    await swapManifest(dir, second.manifestDigest, manifest);
    const root = await tempDir();
    await importTree(root, "kept");
    const where = `${dir}.tar:blobs/sha256/${digestOf(manifest).slice(7)}`;
    await expectNothingLeft(
      root,
      ["load", "-i", retar(dir)],
      new RegExp(`^Error: ${where}: .*layers\\[0\\]\\.size`),
    );
  });

  it("import: input that is not a tar stores nothing", async () => {
    const root = await tempDir();
    await importTree(root, "kept");
    const work = await tempDir();
    await writeFile(join(work, "junk.tar"), "definitely not a tar archive\n".repeat(100));
    await expectNothingLeft(root, ["import", join(work, "junk.tar"), "junk"], /junk\.tar/);
  });
});
