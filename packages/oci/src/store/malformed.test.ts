import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../canonical-json.js";
import { digestOf } from "../digest.js";
import { MediaType } from "../media-types.js";
import { useTempStore } from "./__fixtures__/temp-store.js";

/**
 * A store edited by hand or by another tool can hold documents that do not
 * parse: reading them fails with the parser's code and says which store,
 * which document (manifest, or config of which manifest) and which field.
 */

const t = useTempStore();

/** addEntry writes a blob and names it in index.json behind the store's back. */
async function addEntry(manifest: Uint8Array, name: string): Promise<string> {
  const w = await t.store.writeBlob(manifest);
  const index = JSON.parse(await readFile(join(t.root, "index.json"), "utf8"));
  index.manifests.push({
    mediaType: MediaType.OciManifest,
    digest: w.digest,
    size: w.size,
    annotations: { "org.opencontainers.image.ref.name": name },
  });
  await writeFile(join(t.root, "index.json"), JSON.stringify(index));
  return w.digest;
}

describe("malformed documents in the store", () => {
  it("a manifest that is not JSON", async () => {
    const d = await addEntry(Buffer.from("{not json"), "docker.io/library/bad:latest");
    await expect(t.store.images()).rejects.toMatchObject({
      code: "INVALID_JSON",
      message: expect.stringContaining(
        `${t.root}: index.json: manifest ${d}: manifest: manifest is not valid JSON`,
      ),
    });
  });

  it("a manifest with a negative layer size", async () => {
    const cfg = canonicalJson({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
    });
    await t.store.writeBlob(cfg);
    const manifest = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(cfg), size: cfg.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf("x"), size: -5 }],
    });
    const d = await addEntry(manifest, "docker.io/library/bad:latest");
    await expect(t.store.resolve("bad")).rejects.toMatchObject({
      code: "INVALID_MANIFEST",
      message: expect.stringMatching(
        new RegExp(`^${t.root}: index\\.json: manifest ${d}: .*layers\\[0\\]\\.size`),
      ),
    });
  });

  it("a config without os names the config and its manifest", async () => {
    const cfg = canonicalJson({ architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } });
    await t.store.writeBlob(cfg);
    const manifest = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(cfg), size: cfg.length },
      layers: [],
    });
    const d = await addEntry(manifest, "docker.io/library/bad:latest");
    await expect(t.store.inspect("bad")).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      message: expect.stringContaining(`${t.root}: config ${digestOf(cfg)} of manifest ${d}: config.os: `),
    });
  });
});
