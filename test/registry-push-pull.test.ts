import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ImageStore, MediaType, parseReference, type StoredImage } from "@tsbuild/oci";
import {
  BlobSources,
  headManifest,
  type PullProgressEvent,
  type PushProgressEvent,
  pullImage,
  pushImage,
  pushIndex,
  RegistryClient,
  StaticCredentials,
} from "@tsbuild/registry-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileLayer, makeTestImage } from "./support/images.js";
import { type RegistryAuthMode, startRegistry, TEST_USER, type TestRegistry } from "./support/registry.js";

const run = promisify(execFile);

async function blobFiles(store: ImageStore): Promise<string[]> {
  return (await readdir(join(store.root, "blobs", "sha256"))).sort();
}

describe.each<RegistryAuthMode>(["anonymous", "basic", "token"])(
  "push and pull against docker-registry (%s)",
  (mode) => {
    let registry: TestRegistry;
    let dir: string;
    let store: ImageStore;
    let client: RegistryClient;
    let image: StoredImage;
    const clientFor = (password: string = TEST_USER.password) =>
      new RegistryClient({
        credentials:
          mode === "anonymous"
            ? new StaticCredentials()
            : new StaticCredentials({ [registry.host]: { username: TEST_USER.username, password } }),
      });

    beforeAll(async () => {
      registry = await startRegistry({ auth: mode });
      dir = await mkdtemp(join(tmpdir(), "tsbuild-pushpull-"));
      store = await ImageStore.open({ root: join(dir, "store") });
      client = clientFor();
      const base = await makeTestImage(store, {
        layers: [
          fileLayer("bin", { sh: "#!fake shell\n" }),
          fileLayer("etc", { passwd: "root:x:0:0::/root:/bin/sh\n" }),
        ],
        names: [`${registry.host}/library/base:1`],
        docker: true,
      });
      image = await makeTestImage(store, {
        base,
        layers: [
          fileLayer("app", { "big.bin": randomBytes(200_000), "a.txt": `mode ${mode}\n` }),
          fileLayer("app2", { "b.txt": "second\n" }),
        ],
        names: [`${registry.host}/me/app:v1`],
      });
    });
    afterAll(async () => {
      await client?.close();
      await store?.close();
      await registry?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("pushes a multi-layer image, uploading every blob once, and the manifest by tag", async () => {
      const events: PushProgressEvent[] = [];
      const ref = parseReference(`${registry.host}/me/app:v1`);
      const result = await pushImage(client, image, ref, { store, onProgress: (e) => events.push(e) });
      expect(result.digest).toBe(image.manifestDigest);
      expect(result.tag).toBe("v1");
      expect(result.blobs.map((b) => b.status)).toEqual(["pushed", "pushed", "pushed", "pushed", "pushed"]);
      const finals = events.filter((e) => e.kind === "layer" && e.status === "pushed").map((e) => e.digest);
      expect(finals.sort()).toEqual(image.manifest.layers.map((l) => l.digest).sort());
    });

    it("skopeo inspect agrees with what was pushed", async () => {
      const creds = mode === "anonymous" ? [] : ["--creds", `${TEST_USER.username}:${TEST_USER.password}`];
      const { stdout } = await run("skopeo", [
        "inspect",
        "--tls-verify=false",
        ...creds,
        `docker://${registry.host}/me/app:v1`,
      ]);
      const info = JSON.parse(stdout) as { Digest: string; Layers: string[] };
      expect(info.Digest).toBe(image.manifestDigest);
      expect(info.Layers).toEqual(image.manifest.layers.map((l) => l.digest));
    });

    it("HEADs a manifest: digest and media type, undefined when missing", async () => {
      const target = { registry: registry.host, repository: "me/app" };
      const head = await headManifest(client, { ...target, reference: "v1" });
      expect(head).toEqual({
        digest: image.manifestDigest,
        mediaType: MediaType.OciManifest,
        size: image.descriptor.size,
      });
      expect(await headManifest(client, { ...target, reference: "missing" })).toBeUndefined();
    });

    it("a second push finds every blob already there", async () => {
      const result = await pushImage(client, image, parseReference(`${registry.host}/me/app:v1`), { store });
      expect(result.blobs.every((b) => b.status === "exists")).toBe(true);
      expect(result.digest).toBe(image.manifestDigest);
    });

    it("a push to another repository mounts the blobs instead of uploading them", async () => {
      const result = await pushImage(client, image, parseReference(`${registry.host}/other/copy:latest`), {
        store,
      });
      expect(result.blobs.map((b) => [b.status, b.from])).toEqual(
        result.blobs.map(() => ["mounted", "me/app"]),
      );
      const sources = await new BlobSources(store.root).repositories(
        registry.host,
        image.manifest.config.digest,
      );
      expect(sources).toContain("other/copy");
    });

    it("pulls the image back byte-identical into a fresh store", async () => {
      const fresh = await ImageStore.open({ root: join(dir, `fresh-${Date.now()}`) });
      try {
        const events: PullProgressEvent[] = [];
        const result = await pullImage(client, parseReference(`${registry.host}/me/app:v1`), {
          store: fresh,
          onProgress: (e) => events.push(e),
        });
        expect(result.digest).toBe(image.manifestDigest);
        expect(result.image.id).toBe(image.id);
        expect(result.upToDate).toBe(false);
        expect(result.image.names).toEqual([`${registry.host}/me/app:v1`]);
        for (const l of image.manifest.layers) {
          expect((await fresh.layout.readBlob(l.digest)).equals(await store.layout.readBlob(l.digest))).toBe(
            true,
          );
          const done = events.find((e) => e.type === "layer" && e.digest === l.digest && e.status === "done");
          expect(done).toBeDefined();
        }
        expect(await blobFiles(fresh)).toEqual(
          [image.manifestDigest, image.id, ...image.manifest.layers.map((l) => l.digest)]
            .map((d) => d.slice(7))
            .sort(),
        );
        const again = await pullImage(client, parseReference(`${registry.host}/me/app:v1`), { store: fresh });
        expect(again.upToDate).toBe(true);
      } finally {
        await fresh.close();
      }
    });

    it("pushes big blobs in PATCH chunks the registry accepts", async () => {
      const ref = parseReference(`${registry.host}/me/chunked:v1`);
      const result = await pushImage(client, image, ref, {
        store,
        mount: false,
        chunkThreshold: 50_000,
        chunkSize: 64 * 1024,
      });
      expect(result.blobs.every((b) => b.status === "pushed")).toBe(true);
      const patches = (await registry.logs())
        .split("\n")
        .filter((l) => /"PATCH \/v2\/me\/chunked\/blobs\/uploads\//.test(l));
      expect(patches.length).toBeGreaterThanOrEqual(4);
      const fresh = await ImageStore.open({ root: join(dir, `chunked-${Date.now()}`) });
      try {
        const pulled = await pullImage(client, ref, { store: fresh });
        expect(pulled.manifestDigest).toBe(image.manifestDigest);
      } finally {
        await fresh.close();
      }
    });

    it("pushes a multi-platform index with its manifests, and pulls the wanted platform from it", async () => {
      const other = await store.resolve(`${registry.host}/library/base:1`);
      const index = {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [
          { ...image.descriptor, annotations: undefined, platform: { os: "linux", architecture: "amd64" } },
          {
            ...other.descriptor,
            annotations: undefined,
            platform: { os: "linux", architecture: "arm64", variant: "v8" },
          },
        ],
      };
      const written = await store.layout.writeJson(index);
      const ref = parseReference(`${registry.host}/me/multi:v1`);
      const result = await pushIndex(client, { digest: written.digest, mediaType: MediaType.OciIndex }, ref, {
        store,
      });
      expect(result.digest).toBe(written.digest);
      const fresh = await ImageStore.open({ root: join(dir, `multi-${Date.now()}`) });
      try {
        const arm = await pullImage(client, ref, {
          store: fresh,
          platform: { os: "linux", architecture: "arm64" },
        });
        expect(arm.digest).toBe(written.digest);
        expect(arm.manifestDigest).toBe(other.manifestDigest);
        const amd = await pullImage(client, ref, {
          store: fresh,
          platform: { os: "linux", architecture: "amd64" },
        });
        expect(amd.manifestDigest).toBe(image.manifestDigest);
      } finally {
        await fresh.close();
      }
    });

    it("pulls by digest and verifies it", async () => {
      const fresh = await ImageStore.open({ root: join(dir, `bydigest-${Date.now()}`) });
      try {
        const ref = parseReference(`${registry.host}/other/copy@${image.manifestDigest}`);
        const result = await pullImage(client, ref, { store: fresh });
        expect(result.manifestDigest).toBe(image.manifestDigest);
        expect(result.name).toBeUndefined();
      } finally {
        await fresh.close();
      }
    });

    it("rejects bad credentials, on login and on push (an anonymous registry accepts any)", async () => {
      const bad = clientFor("wrong-password");
      try {
        const login = () =>
          bad.verifyCredentials(registry.host, { username: TEST_USER.username, password: "wrong-password" });
        const push = () => pushImage(bad, image, parseReference(`${registry.host}/me/denied:v1`), { store });
        if (mode === "anonymous") {
          await expect(login()).resolves.toBeDefined();
          await expect(push()).resolves.toMatchObject({ tag: "v1" });
        } else {
          await expect(login()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
          await expect(push()).rejects.toMatchObject({ name: "RegistryError" });
        }
        await expect(
          client.verifyCredentials(registry.host, {
            username: TEST_USER.username,
            password: TEST_USER.password,
          }),
        ).resolves.toBeDefined();
      } finally {
        await bad.close();
      }
    });
  },
);
