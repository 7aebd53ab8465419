import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canonicalJson } from "../canonical-json.js";
import { digestOf } from "../digest.js";
import { MediaType } from "../media-types.js";
import { ImageStore } from "./store.js";

/**
 * A store edited by hand or by another tool can hold documents that do not
 * parse: reading them fails with the parser's code and says which store,
 * which document (manifest, or config of which manifest) and which field.
 */

let root: string;
let store: ImageStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "store-malformed-"));
  store = await ImageStore.open({ root });
});
afterEach(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

/** addEntry writes a blob and names it in index.json behind the store's back. */
async function addEntry(manifest: Uint8Array, name: string): Promise<string> {
  const w = await store.writeBlob(manifest);
  const index = JSON.parse(await readFile(join(root, "index.json"), "utf8"));
  index.manifests.push({
    mediaType: MediaType.OciManifest,
    digest: w.digest,
    size: w.size,
    annotations: { "org.opencontainers.image.ref.name": name },
  });
  await writeFile(join(root, "index.json"), JSON.stringify(index));
  return w.digest;
}

describe("malformed documents in the store", () => {
  it("a manifest that is not JSON", async () => {
    const d = await addEntry(Buffer.from("{not json"), "docker.io/library/bad:latest");
    await expect(store.images()).rejects.toMatchObject({
      code: "INVALID_JSON",
      message: expect.stringContaining(
        `${root}: index.json: manifest ${d}: manifest: manifest is not valid JSON`,
      ),
    });
  });

  it("a manifest with a negative layer size", async () => {
    const cfg = canonicalJson({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
    });
    await store.writeBlob(cfg);
    const manifest = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(cfg), size: cfg.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf("x"), size: -5 }],
    });
    const d = await addEntry(manifest, "docker.io/library/bad:latest");
    await expect(store.resolve("bad")).rejects.toMatchObject({
      code: "INVALID_MANIFEST",
      message: expect.stringMatching(
        new RegExp(`^${root}: index\\.json: manifest ${d}: .*layers\\[0\\]\\.size`),
      ),
    });
  });

  it("a config without os names the config and its manifest", async () => {
    const cfg = canonicalJson({ architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } });
    await store.writeBlob(cfg);
    const manifest = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(cfg), size: cfg.length },
      layers: [],
    });
    const d = await addEntry(manifest, "docker.io/library/bad:latest");
    await expect(store.inspect("bad")).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      message: expect.stringContaining(`${root}: config ${digestOf(cfg)} of manifest ${d}: config.os: `),
    });
  });
});
