import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageStore, MediaType, parseReference, type StoredImage } from "@tsbuild/oci";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BlobSources } from "./blob-sources.js";
import { startUpload, uploadBlob } from "./blobs.js";
import { RegistryClient } from "./client.js";
import { pushImage } from "./push.js";

interface Upload {
  data: Buffer[];
  size: number;
}

/**
 * UploadRegistry implements just enough of the push side of the distribution
 * API to check what the client sends: upload sessions with relative or
 * absolute Locations that change after every PATCH, Content-Range checks,
 * OCI-Chunk-Min-Length, digest checks on the closing PUT, and mounts.
 */
class UploadRegistry {
  server: Server;
  blobs = new Map<string, Buffer>();
  manifests = new Map<string, Buffer>();
  uploads = new Map<string, Upload>();
  log: string[] = [];
  absoluteLocation = false;
  minChunk = 0;
  /** mountable: repositories a mount may come from (others get a plain session, 202). */
  mountable = new Set<string>();
  lieAboutManifestDigest = false;
  /** dropUploads: cut this many upload PUTs off mid-body (the session keeps what arrived). */
  dropUploads = 0;
  /** shortPatches: keep only the first half of this many PATCH bodies, saying so in Range. */
  shortPatches = 0;
  #next = 0;

  constructor() {
    this.server = createServer((req, res) => {
      if (req.method === "PUT" && req.url?.includes("/blobs/uploads/") && this.dropUploads > 0) {
        this.dropUploads--;
        const id = /uploads\/([^/?]+)/.exec(req.url)?.[1] ?? "";
        req.once("data", (c: Buffer) => {
          this.uploads.get(id)?.data.push(c);
          req.socket.destroy();
        });
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, res, Buffer.concat(chunks)));
    });
  }

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  #location(repo: string, id: string): string {
    const path = `/v2/${repo}/blobs/uploads/${id}?_state=s${this.#next++}`;
    return this.absoluteLocation ? `http://${this.host}${path}` : path;
  }

  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? "/", `http://${this.host}`);
    const method = req.method ?? "GET";
    const range = req.headers["content-range"];
    this.log.push(`${method} ${url.pathname}${url.search ? "?" : ""}${range ? ` ${range}` : ""}`);
    if (url.pathname === "/v2/") return void res.writeHead(200).end();
    let m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]+)$/.exec(url.pathname);
    if (m && method === "HEAD") {
      const blob = this.blobs.get(`${m[1]}@${m[2]}`);
      res.writeHead(blob ? 200 : 404, blob ? { "content-length": blob.length } : {});
      return void res.end();
    }
    m = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(url.pathname);
    if (m && method === "POST") {
      const mount = url.searchParams.get("mount");
      const from = url.searchParams.get("from") ?? "";
      const source = this.blobs.get(`${from}@${mount}`);
      if (mount && source && this.mountable.has(from)) {
        this.blobs.set(`${m[1]}@${mount}`, source);
        res.writeHead(201, { location: `/v2/${m[1]}/blobs/${mount}`, "docker-content-digest": mount });
        return void res.end();
      }
      const id = `u${this.#next++}`;
      this.uploads.set(id, { data: [], size: 0 });
      res.writeHead(202, {
        location: this.#location(m[1] as string, id),
        range: "0-0",
        ...(this.minChunk ? { "oci-chunk-min-length": String(this.minChunk) } : {}),
      });
      return void res.end();
    }
    m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/.exec(url.pathname);
    const upload = m ? this.uploads.get(m[2] as string) : undefined;
    if (m && upload && method === "PATCH") {
      const r = /^(\d+)-(\d+)$/.exec(String(range));
      if (!r || Number(r[1]) !== upload.size || Number(r[2]) - Number(r[1]) + 1 !== body.length) {
        return void res.writeHead(416).end();
      }
      const kept = this.shortPatches-- > 0 ? body.subarray(0, body.length / 2) : body;
      upload.data.push(kept);
      upload.size += kept.length;
      res.writeHead(202, {
        location: this.#location(m[1] as string, m[2] as string),
        range: `0-${upload.size - 1}`,
      });
      return void res.end();
    }
    if (m && upload && method === "PUT") {
      upload.data.push(body);
      const data = Buffer.concat(upload.data);
      const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
      if (digest !== url.searchParams.get("digest")) {
        res.writeHead(400, { "content-type": "application/json" });
        return void res.end(
          JSON.stringify({ errors: [{ code: "DIGEST_INVALID", message: "digest mismatch" }] }),
        );
      }
      this.blobs.set(`${m[1]}@${digest}`, data);
      this.uploads.delete(m[2] as string);
      res.writeHead(201, { location: `/v2/${m[1]}/blobs/${digest}`, "docker-content-digest": digest });
      return void res.end();
    }
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (m && method === "PUT") {
      this.manifests.set(`${m[1]}:${m[2]}`, body);
      const digest = `sha256:${createHash("sha256")
        .update(this.lieAboutManifestDigest ? Buffer.from("other") : body)
        .digest("hex")}`;
      res.writeHead(201, { "docker-content-digest": digest });
      return void res.end();
    }
    res.writeHead(404).end();
  }
}

describe("pushImage against an upload-checking registry", () => {
  const reg = new UploadRegistry();
  let dir: string;
  let store: ImageStore;
  let client: RegistryClient;
  let image: StoredImage;
  let big: Buffer;

  beforeAll(async () => {
    await new Promise<void>((r) => reg.server.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    reg.server.closeAllConnections();
    await new Promise((r) => reg.server.close(r));
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-push-"));
    store = await ImageStore.open({ root: dir });
    client = new RegistryClient({ retry: { attempts: 1 } });
    reg.blobs.clear();
    reg.log = [];
    reg.absoluteLocation = false;
    reg.minChunk = 0;
    reg.mountable.clear();
    reg.lieAboutManifestDigest = false;
    reg.dropUploads = 0;
    big = randomBytes(250_000);
    const layer = await store.writeBlob(big);
    const small = await store.writeBlob(Buffer.from("small layer"));
    const config = await store.writeBlob(
      Buffer.from(
        JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
      ),
    );
    image = await store.addImage({
      manifest: {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, ...config },
        layers: [
          { mediaType: MediaType.OciLayerGzip, ...layer },
          { mediaType: MediaType.OciLayerGzip, ...small },
        ],
      },
      names: ["example.invalid/me/app:1"],
    });
  });
  afterEach(async () => {
    await client.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ref = (s: string) => parseReference(`${reg.host}/${s}`);

  it("uploads small blobs in one PUT and skips blobs the registry has", async () => {
    const result = await pushImage(client, image, ref("me/app:1"), { store });
    expect(result.digest).toBe(image.manifestDigest);
    expect(reg.blobs.get(`me/app@${image.manifest.layers[0]!.digest}`)).toEqual(big);
    expect(reg.log.filter((l) => l.startsWith("PATCH"))).toEqual([]);
    expect(reg.manifests.get("me/app:1")).toEqual(await store.layout.readBlob(image.manifestDigest));
    reg.log = [];
    const again = await pushImage(client, image, ref("me/app:2"), { store, mount: false });
    expect(again.blobs.map((b) => b.status)).toEqual(["exists", "exists", "exists"]);
    expect(reg.log.filter((l) => l.startsWith("POST") || l.startsWith("PATCH"))).toEqual([]);
  });

  it.each([
    {
      name: "relative Locations",
      absolute: false,
      minChunk: 0,
      sizes: ["0-99999", "100000-199999", "200000-249999"],
    },
    {
      name: "absolute Locations",
      absolute: true,
      minChunk: 0,
      sizes: ["0-99999", "100000-199999", "200000-249999"],
    },
    {
      name: "a minimum chunk length above ours",
      absolute: false,
      minChunk: 150_000,
      sizes: ["0-149999", "150000-249999"],
    },
    {
      name: "a Range that says the registry kept less than was sent",
      absolute: false,
      minChunk: 0,
      short: 1,
      sizes: ["0-99999", "50000-149999", "150000-249999"],
    },
  ])("uploads big blobs in PATCH chunks following $name", async ({ absolute, minChunk, sizes, short }) => {
    reg.absoluteLocation = absolute;
    reg.minChunk = minChunk;
    reg.shortPatches = short ?? 0;
    await pushImage(client, image, ref("me/chunked:1"), {
      store,
      chunkThreshold: 100_000,
      chunkSize: 100_000,
    });
    expect(reg.blobs.get(`me/chunked@${image.manifest.layers[0]!.digest}`)).toEqual(big);
    const patches = reg.log.filter((l) => l.startsWith("PATCH")).map((l) => l.split(" ")[2]);
    expect(patches).toEqual(sizes);
    // every PATCH after the first goes to the Location the previous answer gave
    const states = reg.log.filter((l) => l.startsWith("PATCH") || l.startsWith("PUT /v2/me/chunked/blobs"));
    expect(new Set(states).size).toBe(states.length);
  });

  it("mounts from a repository known to hold the blob, and falls back to uploading when the registry declines", async () => {
    await pushImage(client, image, ref("base/img:1"), { store });
    reg.mountable.add("base/img");
    const mounted = await pushImage(client, image, ref("other/img:1"), { store });
    expect(mounted.blobs.map((b) => [b.status, b.from])).toEqual([
      ["mounted", "base/img"],
      ["mounted", "base/img"],
      ["mounted", "base/img"],
    ]);
    reg.mountable.clear();
    reg.log = [];
    const declined = await pushImage(client, image, ref("third/img:1"), { store });
    expect(declined.blobs.map((b) => b.status)).toEqual(["pushed", "pushed", "pushed"]);
    expect(reg.blobs.get(`third/img@${image.manifest.layers[0]!.digest}`)).toEqual(big);
    // each blob tries both known repositories; the first 202 session is cancelled, the last one used
    const posts = reg.log.filter((l) => l.startsWith("POST"));
    expect(posts).toHaveLength(6);
    expect(posts.every((l) => l.includes("?"))).toBe(true);
    expect(reg.log.filter((l) => l.startsWith("DELETE"))).toHaveLength(3);
    // the failed sources are forgotten: the next push mounts from the one repository that has the blobs
    const sources = new BlobSources(dir);
    expect(await sources.repositories(reg.host, image.manifest.layers[0]!.digest)).toEqual(["third/img"]);
    reg.mountable.add("third/img");
    reg.log = [];
    const next = await pushImage(client, image, ref("fourth/img:1"), { store });
    expect(next.blobs.map((b) => b.status)).toEqual(["mounted", "mounted", "mounted"]);
    expect(reg.log.filter((l) => l.startsWith("POST"))).toHaveLength(3);
  });

  it("starts an upload over in a new session when the connection drops mid-body", async () => {
    reg.dropUploads = 1;
    const result = await pushImage(client, image, ref("me/dropped:1"), { store, concurrency: 1 });
    expect(result.blobs.map((b) => b.status)).toEqual(["pushed", "pushed", "pushed"]);
    expect(reg.blobs.get(`me/dropped@${image.manifest.layers[0]!.digest}`)).toEqual(big);
    expect(reg.log.filter((l) => l.startsWith("POST"))).toHaveLength(4);
  });

  it("gives up after a bounded number of fresh sessions", async () => {
    reg.dropUploads = 100;
    await expect(
      pushImage(client, image, ref("me/broken:1"), { store, concurrency: 1 }),
    ).rejects.toMatchObject({
      name: "RegistryError",
    });
    expect(reg.log.filter((l) => l.startsWith("POST"))).toHaveLength(3);
  });

  it("fails clearly, without crashing, when a layer the registry needs is missing from the store", async () => {
    const layer = image.manifest.layers[0]!.digest;
    await rm(store.layout.blobPath(layer));
    const progress: unknown[] = [];
    await expect(
      pushImage(client, image, ref("me/missing-layer:1"), { store, onProgress: (e) => progress.push(e) }),
    ).rejects.toMatchObject({
      code: "BLOB_NOT_FOUND",
      message: expect.stringContaining(
        `${dir}: blob ${layer}: the image needs it but the store has no ${store.layout.blobPath(layer)}`,
      ),
    });
    expect(reg.manifests.has("me/missing-layer:1")).toBe(false);
  });

  it("a stored layer whose bytes changed is reported as the store's damage, and uploaded once, not again", async () => {
    const layer = image.manifest.layers[0]!.digest;
    const path = store.layout.blobPath(layer);
    const bytes = await readFile(path);
    bytes[10] = (bytes[10] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    await expect(
      pushImage(client, image, ref("me/corrupt:1"), { store, concurrency: 1 }),
    ).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
      message: expect.stringContaining(
        `${dir}: blob ${layer}: the store's copy is corrupt: ${path} hashes to sha256:`,
      ),
    });
    expect(reg.log.filter((l) => l.startsWith("PUT /v2/me/corrupt/blobs"))).toHaveLength(1);
    expect(reg.manifests.has("me/corrupt:1")).toBe(false);
  });

  it("a blob file that cannot be read fails the upload, not the process (with progress counting)", async () => {
    const start = await startUpload(client, { registry: reg.host, repository: "me/unreadable" });
    if (start.mounted) throw new Error("unexpected mount");
    await expect(
      uploadBlob(
        client,
        { registry: reg.host, repository: "me/unreadable" },
        start,
        image.manifest.layers[0]!,
        {
          path: join(dir, "no-such-file"),
          onBytes: () => {},
        },
      ),
    ).rejects.toThrow();
  });

  it("fails when the registry's manifest digest is not ours", async () => {
    reg.lieAboutManifestDigest = true;
    await expect(pushImage(client, image, ref("me/lie:1"), { store })).rejects.toMatchObject({
      code: "INVALID_RESPONSE",
      message: expect.stringMatching(/but its digest is/),
    });
  });
});
