import { rm } from "node:fs/promises";
import { join } from "node:path";
import { digestHex, ImageStore, MediaType, type StoredImage } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../packages/cli/src/testing.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, TEST_USER, type TestRegistry } from "./support/registry.js";

describe("tsbuild push / pull against docker-registry", () => {
  let registry: TestRegistry;
  let dir: string;
  let image: StoredImage;
  let base: StoredImage;
  const env = (root: string) => ({ ...process.env, TSBUILD_ROOT: root, DOCKER_CONFIG: join(dir, "docker") });

  beforeAll(async () => {
    registry = await startRegistry();
    dir = await tempDir("tsbuild-cli-registry-");
    const store = await ImageStore.open({ root: join(dir, "store") });
    try {
      base = await makeTestImage(store, {
        layers: [fileLayer("bin", { sh: "shell" })],
        names: [`${registry.host}/library/busybox:latest`],
      });
      image = await makeTestImage(store, {
        base,
        layers: [fileLayer("app", { "a.txt": "a" }), fileLayer("app2", { "b.txt": "b" })],
        names: [`${registry.host}/me/custom:latest`],
      });
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ids = (img: StoredImage) => img.config.rootfs.diff_ids.map((d) => digestHex(d).slice(0, 12));

  it("pushes like docker: mounted base layers, pushed new ones, digest line", async () => {
    const storeEnv = env(join(dir, "store"));
    const first = await runCli(["push", `${registry.host}/library/busybox`], { env: storeEnv });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(
        `^Using default tag: latest\nThe push refers to repository \\[${registry.host}/library/busybox\\]\n`,
      ),
    );

    const r = await runCli(["push", `${registry.host}/me/custom:latest`], { env: storeEnv });
    expect(r.code).toBe(0);
    const [baseId, appId, app2Id] = ids(image);
    expect(r.stdout.split("\n")).toEqual([
      `The push refers to repository [${registry.host}/me/custom]`,
      `${app2Id}: Preparing`,
      `${appId}: Preparing`,
      `${baseId}: Preparing`,
      expect.any(String),
      expect.any(String),
      expect.any(String),
      `latest: digest: ${image.manifestDigest} size: ${image.descriptor.size}`,
      "",
    ]);
    expect(r.stdout).toContain(`${baseId}: Mounted from library/busybox\n`);
    expect(r.stdout).toContain(`${appId}: Pushed\n`);
    expect(r.stdout).toContain(`${app2Id}: Pushed\n`);

    const again = await runCli(["push", `${registry.host}/me/custom`], { env: storeEnv });
    expect(again.stdout.match(/Layer already exists/g)).toHaveLength(3);
    const quiet = await runCli(["push", "-q", `${registry.host}/me/custom`], { env: storeEnv });
    expect(quiet.stdout).toBe(`${registry.host}/me/custom:latest\n`);
  });

  it("a push gives the pushed repository a digest in image ls --digests and inspect; a local tag has none", async () => {
    const root = join(dir, "store-digests");
    const store = await ImageStore.open({ root });
    let img: StoredImage;
    try {
      img = await makeTestImage(store, {
        layers: [fileLayer("d", { "d.txt": "digests" })],
        names: [`${registry.host}/me/digests:1`, "local/only:1"],
      });
    } finally {
      await store.close();
    }
    const ls = async () =>
      (
        await runCli(["image", "ls", "--digests", "--format", "{{.Repository}} {{.Digest}}"], {
          env: env(root),
        })
      ).stdout
        .split("\n")
        .filter(Boolean)
        .sort();
    expect(await ls()).toEqual([`${registry.host}/me/digests <none>`, "local/only <none>"]);
    expect((await runCli(["push", `${registry.host}/me/digests:1`], { env: env(root) })).code).toBe(0);
    expect(await ls()).toEqual([`${registry.host}/me/digests ${img.manifestDigest}`, "local/only <none>"]);
    const inspect = await runCli(["image", "inspect", "--format", "{{json .RepoDigests}}", "local/only:1"], {
      env: env(root),
    });
    expect(JSON.parse(inspect.stdout)).toEqual([`${registry.host}/me/digests@${img.manifestDigest}`]);
  });

  it("pushes a multi-platform image (an index in the store) with its manifests", async () => {
    const root = join(dir, "store");
    const store = await ImageStore.open({ root });
    let indexDigest: string;
    try {
      const index = {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [
          {
            mediaType: image.descriptor.mediaType,
            digest: image.manifestDigest,
            size: image.descriptor.size,
            platform: { os: "linux", architecture: "amd64" },
          },
          {
            mediaType: base.descriptor.mediaType,
            digest: base.manifestDigest,
            size: base.descriptor.size,
            platform: { os: "linux", architecture: "arm64" },
          },
        ],
      };
      const written = await store.layout.writeJson(index);
      indexDigest = written.digest;
      const current = await store.layout.readIndex();
      await store.layout.writeIndex({
        ...current,
        manifests: [
          ...current.manifests,
          {
            mediaType: MediaType.OciIndex,
            ...written,
            annotations: { "org.opencontainers.image.ref.name": `${registry.host}/me/multi:1` },
          },
        ],
      });
    } finally {
      await store.close();
    }
    const r = await runCli(["push", `${registry.host}/me/multi:1`], { env: env(root) });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`1: digest: ${indexDigest} size: `);
    const pulled = await runCli(["pull", "--platform", "linux/arm64", `${registry.host}/me/multi:1`], {
      env: env(join(dir, "multi-pulled")),
    });
    expect(pulled.stdout).toContain(`Digest: ${indexDigest}\n`);
    const ls = await runCli(["images", "--no-trunc", "--format", "{{.ID}}"], {
      env: env(join(dir, "multi-pulled")),
    });
    expect(ls.stdout.trim()).toBe(base.id);
  });

  it("fails clearly when the image is not in the store, in docker's words", async () => {
    // No image of the repository at all: docker names the repository, and prints nothing else.
    const r = await runCli(["push", `${registry.host}/me/missing:1`], { env: env(join(dir, "store")) });
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error: An image does not exist locally with the tag: ${registry.host}/me/missing\n`,
    });
    // The repository has images, not this tag.
    const tag = await runCli(["push", `${registry.host}/me/custom:nope`], { env: env(join(dir, "store")) });
    expect(tag.code).toBe(1);
    expect(tag.stdout).toBe(`The push refers to repository [${registry.host}/me/custom]\n`);
    expect(tag.stderr).toBe(`Error: tag does not exist: ${registry.host}/me/custom:nope\n`);
  });

  it("pulls like docker and stores the image under its name", async () => {
    const root = join(dir, "pulled");
    const name = `${registry.host}/me/custom`;
    const r = await runCli(["pull", name], { env: env(root) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 2)).toEqual(["Using default tag: latest", "latest: Pulling from me/custom"]);
    for (const l of image.manifest.layers)
      expect(lines).toContain(`${digestHex(l.digest).slice(0, 12)}: Pull complete`);
    expect(lines.slice(-4)).toEqual([
      `Digest: ${image.manifestDigest}`,
      `Status: Downloaded newer image for ${name}:latest`,
      `${name}:latest`,
      "",
    ]);
    // Up to date: docker resolves the tag (HEAD) and prints no layer lines.
    const again = await runCli(["pull", name], { env: env(root) });
    expect(again.stdout.split("\n")).toEqual([
      "Using default tag: latest",
      "latest: Pulling from me/custom",
      `Digest: ${image.manifestDigest}`,
      `Status: Image is up to date for ${name}:latest`,
      `${name}:latest`,
      "",
    ]);

    // Another image sharing layers: those already exist.
    const shared = await runCli(["pull", `${registry.host}/library/busybox`], { env: env(root) });
    for (const l of base.manifest.layers)
      expect(shared.stdout).toContain(`${digestHex(l.digest).slice(0, 12)}: Already exists`);
    expect(shared.stdout).toContain("Status: Downloaded newer image for");

    const quiet = await runCli(["pull", "-q", `${registry.host}/library/busybox`], { env: env(root) });
    expect(quiet.stdout).toBe(`${registry.host}/library/busybox:latest\n`);

    const ls = await runCli(["images", "--format", "{{.Repository}}:{{.Tag}}"], { env: env(root) });
    expect(ls.stdout.split("\n").sort()).toEqual(
      ["", `${registry.host}/library/busybox:latest`, `${name}:latest`].sort(),
    );
  });

  it("two pulls of the same image into one store at once both succeed", async () => {
    const root = join(dir, "concurrent");
    const name = `${registry.host}/me/custom:latest`;
    const [a, b] = await Promise.all([
      runCli(["pull", "-q", name], { env: env(root) }),
      runCli(["pull", "-q", name], { env: env(root) }),
    ]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, "", ""]);
    const ls = await runCli(["images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], {
      env: env(root),
    });
    expect(ls.stdout).toBe(`${name} ${image.id}\n`);
  });

  it("--progress json prints one event per line and a final result", async () => {
    const root = join(dir, "json-pulled");
    const r = await runCli(["pull", "--progress", "json", `${registry.host}/me/custom`], { env: env(root) });
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; status?: string; digest?: string });
    expect(events[0]).toMatchObject({ type: "resolved", digest: image.manifestDigest });
    expect(events.filter((e) => e.type === "layer" && e.status === "done")).toHaveLength(
      image.manifest.layers.length,
    );
    expect(events.at(-1)).toEqual({
      type: "pulled",
      name: `${registry.host}/me/custom:latest`,
      digest: image.manifestDigest,
      id: image.id,
      upToDate: false,
    });
    const p = await runCli(["push", "--progress", "json", `${registry.host}/me/custom`], { env: env(root) });
    const last = JSON.parse(p.stdout.trim().split("\n").at(-1) ?? "{}");
    expect(last).toMatchObject({ type: "pushed", tag: "latest", digest: image.manifestDigest });
  });

  it("pull --platform of a single-platform image that is another platform keeps it and warns, as docker 20.10", async () => {
    const name = `${registry.host}/me/custom:latest`;
    const actual = `${image.config.os}/${image.config.architecture}${image.config.variant ? `/${image.config.variant}` : ""}`;
    const other = image.config.architecture === "s390x" ? "linux/ppc64le" : "linux/s390x";
    const r = await runCli(["pull", "--platform", other, name], { env: env(join(dir, "pulled-platform")) });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout.split("\n").slice(-3)).toEqual([
      `WARNING: image with reference ${registry.host}/me/custom was found but does not match the specified platform: wanted ${other}, actual: ${actual}`,
      name,
      "",
    ]);
    const same = await runCli(["pull", "--platform", actual, name], {
      env: env(join(dir, "pulled-platform")),
    });
    expect(same.stdout).not.toContain("WARNING");
  });

  it("an image pulled by digest lists as REPO <none> DIGEST and keeps its RepoDigest, as docker", async () => {
    const root = join(dir, "pulled-by-digest");
    const byDigest = `${registry.host}/me/custom@${image.manifestDigest}`;
    expect((await runCli(["pull", "-q", byDigest], { env: env(root) })).code).toBe(0);
    const ls = await runCli(["images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"], {
      env: env(root),
    });
    expect(ls.stdout).toBe(`${registry.host}/me/custom <none> ${image.manifestDigest}\n`);
    const inspect = await runCli(["image", "inspect", "--format", "{{json .RepoDigests}}", image.id], {
      env: env(root),
    });
    expect(JSON.parse(inspect.stdout)).toEqual([byDigest]);
    const rm = await runCli(["rmi", byDigest], { env: env(root) });
    expect(rm.stdout.split("\n")[0]).toBe(`Untagged: ${byDigest}`);
  });

  it("reports a missing tag as an error naming the manifest", async () => {
    const r = await runCli(["pull", `${registry.host}/me/custom:nope`], { env: env(join(dir, "pulled2")) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `Error: manifest for ${registry.host}/me/custom:nope not found: manifest unknown\n`,
    );
    // docker prints "nope: Pulling from …" only once the manifest is found.
    expect(r.stdout).toBe("");
  });
});

describe("tsbuild login, then push and pull with the saved credentials (token auth)", () => {
  let registry: TestRegistry;
  let dir: string;
  let image: StoredImage;
  const env = () => ({
    ...process.env,
    TSBUILD_ROOT: join(dir, "store"),
    DOCKER_CONFIG: join(dir, "docker"),
  });

  beforeAll(async () => {
    registry = await startRegistry({ auth: "token" });
    dir = await tempDir("tsbuild-cli-token-");
    const store = await ImageStore.open({ root: join(dir, "store") });
    try {
      image = await makeTestImage(store, {
        layers: [fileLayer("data", { "x.txt": "x" })],
        names: [`${registry.host}/me/private:1`],
      });
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("refuses to push before login, rejects a wrong password, then pushes and pulls", async () => {
    const denied = await runCli(["push", `${registry.host}/me/private:1`], { env: env() });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/unauthorized|authentication required/i);

    const bad = await runCli(["login", registry.host, "-u", TEST_USER.username, "--password-stdin"], {
      env: env(),
      stdin: "wrong\n",
    });
    expect(bad.code).toBe(1);
    expect(bad.stdout).not.toContain("Login Succeeded");

    const good = await runCli(["login", registry.host, "-u", TEST_USER.username, "--password-stdin"], {
      env: env(),
      stdin: `${TEST_USER.password}\n`,
    });
    expect(good.stdout).toContain("Login Succeeded");

    const pushed = await runCli(["push", `${registry.host}/me/private:1`], { env: env() });
    expect(pushed.stderr).toBe("");
    expect(pushed.stdout).toContain(`1: digest: ${image.manifestDigest} size: ${image.descriptor.size}\n`);

    const pulled = await runCli(["--root", join(dir, "pulled"), "pull", `${registry.host}/me/private:1`], {
      env: env(),
    });
    expect(pulled.stderr).toBe("");
    expect(pulled.stdout).toContain(`Digest: ${image.manifestDigest}\n`);
  });
});
