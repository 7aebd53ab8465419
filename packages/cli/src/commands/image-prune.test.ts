import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, layerId, makeTree, tsb } from "./__fixtures__/image.js";

describe("image prune", () => {
  async function withDangling(): Promise<{ root: string; dangling: string; tagged: string }> {
    const root = await tempDir();
    const dangling = await importTree(root, undefined, { SOURCE_DATE_EPOCH: "1500000000" });
    const tagged = await importTree(root, "tagged");
    return { root, dangling, tagged };
  }

  it("asks first and does nothing on no", async () => {
    const { root } = await withDangling();
    const r = await tsb(root, ["image", "prune"], { stdin: "n\n" });
    expect(r.stdout).toBe(
      "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] Total reclaimed space: 0B\n",
    );
    expect((await tsb(root, ["images", "-q"])).stdout.split("\n")).toHaveLength(3);
  });

  it("removes dangling images on yes and reports the space", async () => {
    const { root, dangling, tagged } = await withDangling();
    const layer = await layerId(root, dangling);
    const r = await tsb(root, ["image", "prune"], { stdin: "y\n" });
    expect(r.code).toBe(0);
    // The image, then its layer by chain ID; the space is the layer's SIZE (39 bytes of files).
    expect(r.stdout).toBe(
      `WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] Deleted Images:\ndeleted: ${dangling}\ndeleted: ${layer}\n\nTotal reclaimed space: 39B\n`,
    );
    expect((await tsb(root, ["images", "-q", "--no-trunc"])).stdout).toBe(`${tagged}\n`);
  });

  it("-a -f removes every image without asking", async () => {
    const { root, dangling, tagged } = await withDangling();
    const r = await tsb(root, ["image", "prune", "-a", "-f"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Deleted Images:\n");
    expect(r.stdout).toContain("untagged: tagged:latest\n");
    expect(r.stdout).toContain(`deleted: ${dangling}\n`);
    expect(r.stdout).toContain(`deleted: ${tagged}\n`);
    expect((await tsb(root, ["images", "-q"])).stdout).toBe("");
    expect(r.stdout).not.toContain("Total reclaimed space: 0B");
  });

  it("-a without -f warns about all images", async () => {
    const { root } = await withDangling();
    const r = await tsb(root, ["image", "prune", "-a"], { stdin: "" });
    expect(r.stdout).toContain(
      "WARNING! This will remove all images without at least one container associated to them.",
    );
  });
});

describe("image prune --filter", () => {
  it("until= keeps recent images; label= / label!= pick by label", async () => {
    const root = await tempDir();
    const old = await importTree(root, undefined, { SOURCE_DATE_EPOCH: "1500000000" });
    const recent = await importTree(root);
    const layer = await layerId(root, old);
    const r = await tsb(root, ["image", "prune", "-f", "--filter", "until=24h"]);
    expect(r.stdout).toBe(
      `Deleted Images:\ndeleted: ${old}\ndeleted: ${layer}\n\nTotal reclaimed space: 39B\n`,
    );
    expect((await tsb(root, ["images", "-q", "--no-trunc"])).stdout).toBe(`${recent}\n`);

    await tsb(root, ["import", "-c", "LABEL keep=yes", await makeTree(), "keeper"]);
    await tsb(root, ["import", "-c", "LABEL keep=no", await makeTree(), "goner"]);
    const a = await tsb(root, ["image", "prune", "-a", "-f", "--filter", "label=keep=no"]);
    expect(a.stdout).toContain("untagged: goner:latest\n");
    const left = await tsb(root, ["images", "--format", "{{.Repository}}"]);
    expect(left.stdout.split("\n").sort().join(",")).toBe(",<none>,keeper");
    const b = await tsb(root, ["image", "prune", "-a", "-f", "--filter", "label!=keep"]);
    expect(b.code).toBe(0);
    expect((await tsb(root, ["images", "--format", "{{.Repository}}"])).stdout).toBe("keeper\n");
  });

  it("rejects unknown prune filters as usage errors", async () => {
    const root = await tempDir();
    expect((await tsb(root, ["image", "prune", "-f", "--filter", "dangling=false"])).code).toBe(2);
    expect((await tsb(root, ["image", "prune", "-f", "--filter", "until=soon"])).code).toBe(2);
  });
});
