import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeImage } from "./__fixtures__/images.js";
import { useTempStore } from "./__fixtures__/temp-store.js";

/**
 * RepoDigests (docker's) name only the repositories that really hold the
 * image by digest: those it was pulled from or pushed to, not every name it
 * was tagged with locally.
 */

const t = useTempStore();

describe("repo digests", () => {
  it("a pull records its own repository, a later local tag adds none, a push adds its repository", async () => {
    const img = await makeImage(t.store, { names: ["reg.example/lib/app:1"], extra: { repoDigests: true } });
    await t.store.tag("reg.example/lib/app:1", "mine/local:2");
    expect((await t.store.resolve("mine/local:2")).repoDigests).toEqual(["reg.example/lib/app"]);
    expect((await t.store.inspect("mine/local:2")).RepoDigests).toEqual([
      `reg.example/lib/app@${img.manifestDigest}`,
    ]);

    await t.store.addRepoDigest(img.manifestDigest, "mine/local");
    await t.store.addRepoDigest(img.manifestDigest, "mine/local"); // recorded once
    expect((await t.store.resolve(img.id)).repoDigests).toEqual([
      "reg.example/lib/app",
      "docker.io/mine/local",
    ]);
  });

  it("an imported image has none until it is pushed", async () => {
    const img = await makeImage(t.store, { names: ["app:1"] });
    expect((await t.store.inspect("app:1")).RepoDigests).toEqual([]);
    await t.store.addRepoDigest(img.manifestDigest, "localhost:5000/app");
    expect((await t.store.inspect("app:1")).RepoDigests).toEqual([
      `localhost:5000/app@${img.manifestDigest}`,
    ]);
  });

  it('reads the "true" that earlier stores wrote as the repositories of the image\'s names', async () => {
    const img = await makeImage(t.store, { names: ["app:1", "me/app:2"], extra: { repoDigests: true } });
    const path = join(t.root, "index.json");
    const index = JSON.parse(await readFile(path, "utf8"));
    for (const m of index.manifests) m.annotations["io.tsbuild.image.repo-digests"] = "true";
    await writeFile(path, JSON.stringify(index));
    expect((await t.store.resolve(img.id)).repoDigests).toEqual([
      "docker.io/library/app",
      "docker.io/me/app",
    ]);
  });
});
