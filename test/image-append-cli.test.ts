import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  archiveImages,
  type Image,
  ImageStore,
  layoutImage,
  parseReference,
  readArchive,
  storeImage,
  tarEntries,
} from "@tsbuild/oci";
import { RegistryClient, resolveImage, StaticCredentials } from "@tsbuild/registry-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../packages/cli/src/testing.js";
import { type CountingProxy, startCountingProxy } from "./support/counting-proxy.js";
import { fileLayer, makeTestImage } from "./support/images.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

async function names(image: Image, i: number): Promise<string[]> {
  const out: string[] = [];
  for await (const { info } of tarEntries(await image.layers[i]!.uncompressed()))
    out.push(`${info.name} ${info.mode.toString(8)} ${info.uid}:${info.gid}`);
  return out;
}

/** `tsbuild image append` and `tsbuild image copy`, run as a user runs them. */
describe("tsbuild image append / image copy", () => {
  let dir: string;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let registry: TestRegistry;
  let proxy: CountingProxy;
  let app: string;
  let tar: string;
  const tsb = (args: string[]) => runCli(["--root", root, ...args], { env });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-append-cli-"));
    root = join(dir, "store");
    env = { ...process.env, DOCKER_CONFIG: join(dir, "docker"), SOURCE_DATE_EPOCH: "1700000000" };
    const store = await ImageStore.open({ root });
    await makeTestImage(store, {
      layers: [fileLayer("etc", { "os-release": "ID=cli\n" })],
      names: ["cli/base:1"],
    });
    await store.close();
    app = join(dir, "app");
    await mkdir(app);
    await writeFile(join(app, "server"), "#!/bin/sh\n");
    await chmod(join(app, "server"), 0o750);
    tar = join(dir, "extra.tar.gz");
    await mkdir(join(dir, "extra", "opt"), { recursive: true });
    await writeFile(join(dir, "extra", "opt", "x"), "x");
    await promisify(execFile)("tar", [
      "-czf",
      tar,
      "--owner=7",
      "--group=8",
      "--numeric-owner",
      "-C",
      join(dir, "extra"),
      "opt",
    ]);
    registry = await startRegistry();
    proxy = await startCountingProxy(registry.url);
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("appends a directory and a tarball to a stored base and names the result in the store", async () => {
    const r = await tsb([
      "image",
      "append",
      "--base-store",
      "cli/base:1",
      "-f",
      app,
      "--prefix",
      "app",
      "--chown",
      "0:0",
      "-f",
      tar,
      "-t",
      "cli/app:1",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const store = await ImageStore.open({ root });
    try {
      const image = await storeImage(store, "cli/app:1");
      expect(r.stdout).toBe(`${image.digest}\n`);
      expect(image.layers).toHaveLength(3);
      expect(await names(image, 1)).toEqual(["app/ 755 0:0", "app/server 750 0:0"]);
      expect(await names(image, 2)).toEqual(["opt/ 755 7:8", "opt/x 644 7:8"]);
      expect(image.config.history?.[1]?.created).toBe("2023-11-14T22:13:20Z");
    } finally {
      await store.close();
    }
    // The same inputs and SOURCE_DATE_EPOCH: the same image.
    const again = await tsb([
      "image",
      "append",
      "--base-store",
      "cli/base:1",
      "-f",
      app,
      "--prefix",
      "app",
      "--chown",
      "0:0",
      "-f",
      tar,
    ]);
    expect(again.stdout).toBe(r.stdout);
  });

  it("writes an OCI layout or a docker archive instead", async () => {
    const layout = join(dir, "layout");
    const r = await tsb([
      "image",
      "append",
      "--base-store",
      "cli/base:1",
      "-f",
      tar,
      "-t",
      "cli/app:2",
      "-o",
      `oci=${layout}`,
    ]);
    expect(r.code).toBe(0);
    const fromLayout = await layoutImage(layout, "cli/app:2");
    expect(`${fromLayout.digest}\n`).toBe(r.stdout);
    const { stdout } = await promisify(execFile)("skopeo", [
      "inspect",
      "--raw",
      `oci:${layout}:docker.io/cli/app:2`,
    ]);
    expect(JSON.parse(stdout).layers).toHaveLength(2);
    const file = join(dir, "app.tar");
    const d = await tsb([
      "image",
      "append",
      "--base-store",
      "cli/base:1",
      "-f",
      tar,
      "-t",
      "cli/app:2",
      "-o",
      `docker=${file}`,
    ]);
    expect(d.stdout).toBe(r.stdout);
    const archive = await readArchive(file);
    try {
      const [found] = archiveImages(archive);
      expect(found?.names).toEqual(["docker.io/cli/app:2"]);
      expect(found?.image.digest).toBe(fromLayout.digest);
    } finally {
      await archive.close();
    }
  });

  it("onto a registry base, pushed to the registry: the base's layers are mounted, not downloaded; image copy copies it", async () => {
    const store = await ImageStore.open({ root });
    const base = await storeImage(store, "cli/base:1");
    await store.close();
    expect((await tsb(["tag", "cli/base:1", `${proxy.host}/cli/base:1`])).code).toBe(0);
    expect((await tsb(["push", "-q", `${proxy.host}/cli/base:1`])).code).toBe(0);
    proxy.log.length = 0;
    const r = await tsb([
      "image",
      "append",
      "--base",
      `${proxy.host}/cli/base:1`,
      "-f",
      app,
      "-t",
      `${proxy.host}/cli/app:3`,
      "--output",
      "registry",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(proxy.blobGets()).toEqual([`GET /v2/cli/base/blobs/${base.configDigest}`]);
    expect(proxy.log).toContainEqual(
      expect.stringContaining(
        `POST /v2/cli/app/blobs/uploads/?mount=${encodeURIComponent(base.layers[0]!.digest)}`,
      ),
    );
    const client = new RegistryClient({ credentials: new StaticCredentials() });
    try {
      const pushed = await resolveImage(client, parseReference(`${proxy.host}/cli/app:3`));
      expect(`${pushed.digest}\n`).toBe(r.stdout);
      expect(await names(pushed, 1)).toContainEqual(expect.stringMatching(/^server 750 /));

      const c = await tsb(["image", "copy", `${proxy.host}/cli/app:3`, `${proxy.host}/cli/copied:3`]);
      expect(c.stderr).toBe("");
      expect(c.stdout).toBe(r.stdout);
      expect((await resolveImage(client, parseReference(`${proxy.host}/cli/copied:3`))).digest).toBe(
        pushed.digest,
      );
    } finally {
      await client.close();
    }
  });

  it("usage errors: a bad --output, both bases, a registry output without a tag, a missing layer", async () => {
    const bad = await tsb(["image", "append", "-f", tar, "-o", "s3=x"]);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      expect.stringContaining("give store, oci=DIR, docker=FILE or registry"),
    ]);
    const both = await tsb(["image", "append", "--base", "a", "--base-store", "b", "-f", tar]);
    expect(both.code).toBe(2);
    const notag = await tsb(["image", "append", "-f", tar, "-o", "registry"]);
    expect([notag.code, notag.stderr]).toEqual([2, expect.stringContaining("give one")]);
    const missing = await tsb(["image", "append", "-f", join(dir, "nope.tar")]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining("cannot read layer tarball")]);
  });
});
