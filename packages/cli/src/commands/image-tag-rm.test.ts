import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImageStore } from "@tsbuild/oci";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { importTree, layerId, tsb } from "./__fixtures__/image.js";

describe("image tag / rm / rmi", () => {
  it("tags, untags and deletes like docker", async () => {
    const root = await tempDir();
    const id = await importTree(root, "app:1");
    expect((await tsb(root, ["image", "tag", "app:1", "app:2"])).code).toBe(0);
    expect((await tsb(root, ["tag", id.slice(7, 19), "other"])).code).toBe(0);
    const names = (await tsb(root, ["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout;
    expect(names.split("\n").sort().join(",")).toBe(",app:1,app:2,other:latest");

    const un = await tsb(root, ["rmi", "app:1"]);
    expect(un).toEqual({ code: 0, stdout: "Untagged: app:1\n", stderr: "" });

    const conflict = await tsb(root, ["image", "rm", id.slice(7, 19)]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^Error: .*must be forced.*multiple repositories/);

    const layer = await layerId(root, id);
    const forced = await tsb(root, ["image", "rm", "-f", id]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(
      `Untagged: app:2\nUntagged: other:latest\nDeleted: ${id}\nDeleted: ${layer}\n`,
    );
    expect((await tsb(root, ["images", "-q"])).stdout).toBe("");
  });

  it("lists around an image whose config blob was edited, warns about it, and still removes it by name", async () => {
    const root = await tempDir();
    const good = await importTree(root, "good:1");
    const bad = await importTree(root, "bad:1", { SOURCE_DATE_EPOCH: "1000000000" });
    // Another tool (or a disk fault) changed the config blob, so its digest no longer matches.
    await writeFile(join(root, "blobs", "sha256", bad.slice("sha256:".length)), '{"edited":true}');

    const ls = await tsb(root, ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toBe(`good:1 ${good.slice(7, 19)}\n`);
    expect(ls.stderr).toMatch(
      /^WARNING: skipping image docker\.io\/library\/bad:1 that cannot be read: .*expected sha256:/,
    );

    const rm = await tsb(root, ["rmi", "bad:1"]);
    expect(rm).toMatchObject({ code: 0, stderr: "" });
    expect(rm.stdout).toMatch(/^Untagged: bad:1\nDeleted: sha256:/);
    expect(await tsb(root, ["images", "-q"])).toEqual({
      code: 0,
      stdout: `${good.slice(7, 19)}\n`,
      stderr: "",
    });
  });

  it("reports each missing image, still removes the rest, exits 1", async () => {
    const root = await tempDir();
    const id = await importTree(root, "keep-going");
    const layer = await layerId(root, id);
    const r = await tsb(root, ["rmi", "nope", "keep-going"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error: No such image: nope\n");
    expect(r.stdout).toBe(`Untagged: keep-going:latest\nDeleted: ${id}\nDeleted: ${layer}\n`);
  });

  it("tag of a missing image fails; missing arguments are usage errors", async () => {
    const root = await tempDir();
    const r = await tsb(root, ["tag", "ghost", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error: No such image: ghost:latest\n");
    expect((await tsb(root, ["tag", "me/ghost:2", "x"])).stderr).toBe("Error: No such image: me/ghost:2\n");
    expect((await tsb(root, ["tag", "only-one"])).code).toBe(2);
    expect((await tsb(root, ["rmi"])).code).toBe(2);
  });

  it("rmi of a pulled image also untags repo@digest", async () => {
    const root = await tempDir();
    const id = await importTree(root, "nginx:1");
    const store = await ImageStore.open({ root });
    const img = await store.resolve("nginx:1");
    const manifest = await store.layout.readBlob(img.manifestDigest);
    await store.addImage({ manifest, names: ["nginx:1"], repoDigests: true });
    await store.close();
    const r = await tsb(root, ["rmi", "nginx:1"]);
    const layer = img.config.rootfs.diff_ids[0];
    expect(r.stdout).toBe(
      `Untagged: nginx:1\nUntagged: nginx@${img.manifestDigest}\nDeleted: ${id}\nDeleted: ${layer}\n`,
    );
  });
});
