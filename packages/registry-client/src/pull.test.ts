import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Digest, digestOf, ImageStore, MediaType, parseReference } from "@tsbuild/oci";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RegistryClient } from "./client.js";
import { pullImage } from "./pull.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => boolean | undefined;

/** FakeRegistry serves blobs and manifests from maps; `override` injects faults per request. */
class FakeRegistry {
  server: Server;
  blobs = new Map<string, Buffer>();
  manifests = new Map<string, { body: Buffer; type: string }>();
  override: Handler | undefined;
  requests: string[] = [];

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method} ${req.url} ${req.headers.range ?? ""}`.trim());
    if (this.override?.(req, res)) return;
    const url = req.url ?? "/";
    if (url === "/v2/") return void res.writeHead(200).end("{}");
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url);
    // Manifests are served by tag and, as a real registry does, by the digest of their content.
    const item =
      m?.[2] === "manifests"
        ? (this.manifests.get(m[3] as string) ??
          [...this.manifests.values()].find((v) => digestOf(v.body) === m[3]))
        : undefined;
    if (item) {
      res.writeHead(200, {
        "content-type": item.type,
        "content-length": item.body.length,
        "docker-content-digest": digestOf(item.body),
      });
      return void res.end(req.method === "HEAD" ? undefined : item.body);
    }
    const blob = m?.[2] === "blobs" ? this.blobs.get(m[3] as string) : undefined;
    if (blob) {
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
      const start = range ? Number(range[1]) : 0;
      res.writeHead(range ? 206 : 200, {
        "content-length": blob.length - start,
        ...(range ? { "content-range": `bytes ${start}-${blob.length - 1}/${blob.length}` } : {}),
      });
      return void res.end(blob.subarray(start));
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ errors: [{ code: m?.[2] === "blobs" ? "BLOB_UNKNOWN" : "MANIFEST_UNKNOWN" }] }));
  }

  addBlob(data: Buffer): { mediaType: string; digest: Digest; size: number } {
    const digest = digestOf(data);
    this.blobs.set(digest, data);
    return { mediaType: MediaType.OciLayerGzip, digest, size: data.length };
  }

  /** addImage serves a two-layer image under `tag` and by digest; returns its parts. */
  addImage(tag: string, arch = "amd64") {
    const config = Buffer.from(
      JSON.stringify({ architecture: arch, os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
    );
    const cfg = { ...this.addBlob(config), mediaType: MediaType.OciConfig };
    const layers = [this.addBlob(randomBytes(200_000)), this.addBlob(randomBytes(1000))];
    const body = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: cfg, layers }),
    );
    const digest = digestOf(body);
    this.manifests.set(tag, { body, type: MediaType.OciManifest });
    this.manifests.set(digest, { body, type: MediaType.OciManifest });
    return { digest, size: body.length, layers, config: cfg };
  }
}

describe("pullImage against a fault-injecting registry", () => {
  const fake = new FakeRegistry();
  let dir: string;
  let store: ImageStore;
  let client: RegistryClient;

  beforeAll(async () => {
    await new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    fake.server.closeAllConnections();
    await new Promise((r) => fake.server.close(r));
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsbuild-pull-"));
    store = await ImageStore.open({ root: dir });
    client = new RegistryClient({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
    fake.override = undefined;
    fake.requests = [];
  });
  afterEach(async () => {
    await client.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ref = (s: string) => parseReference(`${fake.host}/${s}`);
  const blobsInStore = async (): Promise<string[]> => readdir(join(dir, "blobs", "sha256")).catch(() => []);

  /** expectNothingKept checks that a failed pull left the index and the blob directory as they were. */
  async function expectNothingKept(indexBefore: string): Promise<void> {
    expect(await readFile(join(dir, "index.json"), "utf8")).toBe(indexBefore);
    expect(await blobsInStore()).toEqual([]);
  }

  /**
   * sharedLayerImages makes blobs for two images that share a layer and a
   * config (`bad` does not match its digest); `gated` holds a blob's GETs
   * until `open()`, to order concurrent pulls.
   */
  function sharedLayerImages() {
    const shared = fake.addBlob(randomBytes(3000));
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const cfg = { ...fake.addBlob(config), mediaType: MediaType.OciConfig };
    const slow = fake.addBlob(randomBytes(2000));
    const bad = fake.addBlob(randomBytes(500));
    fake.blobs.set(bad.digest, randomBytes(500));
    const manifest = (tag: string, layers: unknown[]) =>
      fake.manifests.set(tag, {
        body: Buffer.from(
          JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: cfg, layers }),
        ),
        type: MediaType.OciManifest,
      });
    const gates = new Map<string, Promise<void>>();
    fake.override = (req, res) => {
      const digest = [...gates.keys()].find((d) => req.url?.endsWith(d));
      if (digest === undefined) return false;
      const body = fake.blobs.get(digest) as Buffer;
      void gates.get(digest)?.then(() => res.writeHead(200, { "content-length": body.length }).end(body));
      return true;
    };
    const gated = (blob: { digest: string }) => {
      let open!: () => void;
      gates.set(
        blob.digest,
        new Promise<void>((r) => {
          open = r;
        }),
      );
      return { open: () => open() };
    };
    return { shared, cfg, slow, bad, manifest, gated };
  }

  it("pulls a good image, reporting layers downloaded then done", async () => {
    const img = fake.addImage("good");
    const accepts: string[] = [];
    fake.override = (req) => {
      if (req.url?.includes("/manifests/")) accepts.push(`${req.method} ${req.headers.accept}`);
      return false;
    };
    const statuses: string[] = [];
    const result = await pullImage(client, ref("x/good:good"), {
      store,
      onProgress: (e) => e.type === "layer" && statuses.push(`${e.digest.slice(7, 11)} ${e.status}`),
    });
    expect(result.manifestDigest).toBe(img.digest);
    expect((await blobsInStore()).sort()).toEqual(
      [img.digest, img.config.digest, ...img.layers.map((l) => l.digest)].map((d) => d.slice(7)).sort(),
    );
    for (const l of img.layers) expect(statuses).toContain(`${l.digest.slice(7, 11)} done`);
    // Every manifest type we understand, or a registry that negotiates would send schema1 or pick one.
    const all = [
      MediaType.OciIndex,
      MediaType.OciManifest,
      MediaType.DockerManifestList,
      MediaType.DockerManifest,
    ];
    expect(accepts).toEqual([`HEAD ${all.join(", ")}`, `GET ${all.join(", ")}`]);
    // The tag was resolved with a HEAD, then the manifest fetched by digest (and verified).
    expect(fake.requests.filter((r) => r.includes("/manifests/"))).toEqual([
      "HEAD /v2/x/good/manifests/good",
      `GET /v2/x/good/manifests/${img.digest}`,
    ]);
  });

  it("reports download progress every 512 KiB, not per network chunk", async () => {
    const layer = fake.addBlob(randomBytes(3 * 1024 * 1024 + 5));
    const cfg = {
      ...fake.addBlob(
        Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'),
      ),
      mediaType: MediaType.OciConfig,
    };
    const body = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: cfg, layers: [layer] }),
    );
    fake.manifests.set("big", { body, type: MediaType.OciManifest });
    const seen: string[] = [];
    await pullImage(client, ref("x/big:big"), {
      store,
      onProgress: (e) => {
        if (e.type === "layer") seen.push(`${e.status} ${Math.floor(e.current / 1024)}`);
      },
    });
    const downloading = seen.filter((s) => s.startsWith("downloading"));
    expect(downloading[0]).toBe("downloading 0");
    expect(downloading.length).toBeGreaterThanOrEqual(4);
    expect(downloading.length).toBeLessThanOrEqual(7);
    expect(seen.slice(-2)).toEqual([
      `verifying ${Math.floor(layer.size / 1024)}`,
      `done ${Math.floor(layer.size / 1024)}`,
    ]);
  });

  it("finds an image stored under its name at the tag's digest up to date with one HEAD", async () => {
    const img = fake.addImage("same");
    await pullImage(client, ref("x/same:same"), { store });
    fake.requests = [];
    const again = await pullImage(client, ref("x/same:same"), { store });
    expect(again).toMatchObject({ upToDate: true, manifestDigest: img.digest, digest: img.digest });
    expect(fake.requests).toEqual(["HEAD /v2/x/same/manifests/same"]);
  });

  it.each([
    ["answers HEAD with 405", 405, undefined],
    ["answers HEAD without Docker-Content-Digest", 200, ""],
  ])("falls back to a GET by tag when the registry %s", async (_name, status, digest) => {
    const img = fake.addImage("nohead");
    fake.override = (req, res) => {
      if (req.method !== "HEAD" || !req.url?.includes("/manifests/")) return false;
      res.writeHead(status, digest === undefined ? {} : { "docker-content-digest": digest }).end();
      return true;
    };
    const result = await pullImage(client, ref("x/nh:nohead"), { store });
    expect(result.manifestDigest).toBe(img.digest);
    expect(fake.requests.filter((r) => r.includes("/manifests/"))).toEqual([
      "HEAD /v2/x/nh/manifests/nohead",
      "GET /v2/x/nh/manifests/nohead",
    ]);
  });

  const faults: { name: string; setup: () => string; error: RegExp; code: string }[] = [
    {
      name: "a blob whose content does not match its digest",
      setup: () => {
        const img = fake.addImage("bad-blob");
        fake.blobs.set(img.layers[0]!.digest, randomBytes(img.layers[0]!.size));
        return "x/bad:bad-blob";
      },
      code: "DIGEST_MISMATCH",
      error: /failed verification/,
    },
    {
      name: "a manifest that is not valid JSON",
      setup: () => {
        fake.manifests.set("notjson", { body: Buffer.from("{not json"), type: MediaType.OciManifest });
        return "x/bad:notjson";
      },
      code: "MANIFEST_INVALID",
      error: /invalid manifest/,
    },
    {
      name: "a manifest over the size limit",
      setup: () => {
        fake.manifests.set("huge", { body: Buffer.alloc(5 * 1024 * 1024, 32), type: MediaType.OciManifest });
        return "x/bad:huge";
      },
      code: "TOO_LARGE",
      error: /limit/,
    },
    {
      name: "a manifest that does not match the digest asked for",
      setup: () => {
        const img = fake.addImage("swapped");
        const other = fake.addImage("other");
        fake.manifests.set(img.digest, fake.manifests.get(other.digest)!);
        return `x/bad@${img.digest}`;
      },
      code: "DIGEST_INVALID",
      error: /does not match its digest/,
    },
    {
      name: "a blob body that is always cut off",
      setup: () => {
        const img = fake.addImage("truncated");
        const big = img.layers[0]!;
        fake.override = (req, res) => {
          if (!req.url?.endsWith(big.digest)) return false;
          res.writeHead(200, { "content-length": big.size });
          res.write(fake.blobs.get(big.digest)!.subarray(0, 1000));
          setTimeout(() => res.destroy(), 10);
          return true;
        };
        return "x/bad:truncated";
      },
      code: "CONNECTION_RESET",
      error: /cut off/,
    },
    {
      name: "a blob longer than its descriptor says",
      setup: () => {
        const img = fake.addImage("long");
        const l = img.layers[1]!;
        fake.blobs.set(l.digest, Buffer.concat([fake.blobs.get(l.digest)!, Buffer.from("extra")]));
        return "x/bad:long";
      },
      code: "INVALID_RESPONSE",
      error: /longer than/,
    },
  ];

  it.each(faults)("fails clearly and keeps nothing on $name", async ({ setup, code, error }) => {
    const name = setup();
    const indexBefore = await readFile(join(dir, "index.json"), "utf8");
    const err = await pullImage(client, ref(name), { store }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toMatch(error);
    await expectNothingKept(indexBefore);
  });

  it("names the layer that failed verification, once, never the config (repeated to catch the race)", async () => {
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const cfg = { ...fake.addBlob(config), mediaType: MediaType.OciConfig };
    const good = [fake.addBlob(randomBytes(300_000)), fake.addBlob(randomBytes(4000))];
    const bad = fake.addBlob(randomBytes(2000));
    const flipped = Buffer.from(fake.blobs.get(bad.digest)!);
    flipped[1000] = (flipped[1000] as number) ^ 1;
    fake.blobs.set(bad.digest, flipped);
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: cfg,
        layers: [bad, ...good],
      }),
    );
    fake.manifests.set("flipped", { body, type: MediaType.OciManifest });
    // The config and the good layers are still downloading when the bad layer fails (parallel downloads).
    let round = 0;
    fake.override = (req, res) => {
      const blob = [cfg, ...good].find((b) => req.url?.endsWith(b.digest));
      if (blob === undefined) return false;
      const data = fake.blobs.get(blob.digest)!;
      res.writeHead(200, { "content-length": data.length });
      res.write(data.subarray(0, 10));
      setTimeout(() => res.end(data.subarray(10)), (round % 4) * 5);
      return true;
    };
    for (round = 0; round < 12; round++) {
      const err = await pullImage(client, ref("x/flip:flipped"), { store, concurrency: 4 }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: "DIGEST_MISMATCH", where: bad.digest });
      const message = (err as Error).message;
      expect(message).toContain(bad.digest);
      expect(message).not.toContain(cfg.digest);
      expect(message.split("failed verification")).toHaveLength(2);
    }
  });

  it.each([
    ["an image config", "config", 10 * 1024 ** 3],
    ["a platform's manifest in an index", "manifest", 5 * 1024 * 1024],
  ])(
    "refuses %s whose descriptor claims more than the limit, before downloading it",
    async (_n, what, size) => {
      const img = fake.addImage("claims");
      const claimed = { ...img.config, size };
      let top: Buffer;
      if (what === "config") {
        top = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MediaType.OciManifest,
            config: claimed,
            layers: img.layers,
          }),
        );
      } else {
        const platform = { os: "linux", architecture: "amd64" };
        top = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MediaType.OciIndex,
            manifests: [{ mediaType: MediaType.OciManifest, digest: img.digest, size, platform }],
          }),
        );
      }
      fake.manifests.set("claims-big", {
        body: top,
        type: what === "config" ? MediaType.OciManifest : MediaType.OciIndex,
      });
      const indexBefore = await readFile(join(dir, "index.json"), "utf8");
      fake.requests = [];
      const err = await pullImage(client, ref("x/big:claims-big"), {
        store,
        platform: { os: "linux", architecture: "amd64" },
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "TOO_LARGE" });
      expect((err as Error).message).toContain(String(size));
      const refused = what === "config" ? img.config.digest : img.digest;
      expect((err as Error).message).toContain(refused);
      expect(fake.requests.filter((r) => r.includes(refused))).toEqual([]);
      await expectNothingKept(indexBefore);
    },
  );

  it("stops reading a config whose body is longer than its descriptor says", async () => {
    const img = fake.addImage("long-config");
    let sent = 0;
    fake.override = (req, res) => {
      if (!req.url?.endsWith(img.config.digest)) return false;
      // A lying registry: no Content-Length, and far more bytes than the descriptor's size.
      res.writeHead(200, { "transfer-encoding": "chunked" });
      const chunk = Buffer.alloc(64 * 1024, 32);
      const pump = () => {
        while (sent < 256 * 1024 * 1024 && !res.destroyed && res.write(chunk)) sent += chunk.length;
        if (sent < 256 * 1024 * 1024 && !res.destroyed) res.once("drain", pump);
        else res.end();
      };
      res.on("close", () => {
        sent = Math.min(sent, 256 * 1024 * 1024);
      });
      pump();
      return true;
    };
    const err = await pullImage(client, ref("x/lc:long-config"), { store }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_RESPONSE" });
    expect((err as Error).message).toContain(`longer than its ${img.config.size} bytes`);
    expect(sent).toBeLessThan(256 * 1024 * 1024);
  });

  it("keeps the blobs of stored images when a pull sharing them fails", async () => {
    const good = fake.addImage("kept");
    await pullImage(client, ref("x/good:kept"), { store });
    const before = (await blobsInStore()).sort();
    const bad = fake.addBlob(randomBytes(500));
    fake.blobs.set(bad.digest, randomBytes(500));
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: good.config,
        layers: [...good.layers, bad],
      }),
    );
    fake.manifests.set("shares", { body, type: MediaType.OciManifest });
    await expect(pullImage(client, ref("x/bad:shares"), { store })).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
    });
    expect((await blobsInStore()).sort()).toEqual(before);
    expect((await store.resolve(`${fake.host}/x/good:kept`)).manifestDigest).toBe(good.digest);
  });

  it("a failing pull leaves the blobs a concurrent pull into the same store still needs", async () => {
    const { shared, slow, bad, manifest, gated } = sharedLayerImages();
    manifest("a", [shared, slow]);
    manifest("b", [shared, bad]);
    const slowGate = gated(slow);
    const a = pullImage(client, ref("x/a:a"), { store });
    while (!(await blobsInStore()).includes(shared.digest.slice(7)))
      await new Promise((r) => setTimeout(r, 5));
    await expect(pullImage(client, ref("x/b:b"), { store })).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
    });
    slowGate.open();
    expect((await a).image.manifest.layers.map((l) => l.digest)).toEqual([shared.digest, slow.digest]);
  });

  it("a failing pull does not delete a blob it wrote that a concurrent pull found present", async () => {
    const { shared, cfg, slow, bad, manifest, gated } = sharedLayerImages();
    manifest("a", [shared, slow]);
    manifest("b", [shared, bad]);
    const badGate = gated(bad);
    const slowGate = gated(slow);
    const b = pullImage(client, ref("x/b:b"), { store }).catch((e: unknown) => e);
    while (!(await blobsInStore()).includes(shared.digest.slice(7)))
      await new Promise((r) => setTimeout(r, 5));
    let found!: () => void;
    const foundShared = new Promise<void>((r) => {
      found = r;
    });
    const a = pullImage(client, ref("x/a:a"), {
      store,
      onProgress: (e) => {
        if (e.type === "layer" && e.digest === shared.digest && e.status === "exists") found();
      },
    });
    await foundShared;
    badGate.open();
    expect(await b).toMatchObject({ code: "DIGEST_MISMATCH" });
    slowGate.open();
    expect((await a).image.id).toBe(cfg.digest);
  });

  it.each(["succeeds and its image is removed again", "fails"])(
    "a pull that %s leaves another operation's lease on a shared blob alone",
    async (outcome) => {
      const { shared, slow, bad, manifest } = sharedLayerImages();
      manifest("ok", [shared, slow]);
      manifest("ko", [shared, bad]);
      // Another operation on this store (a load, an import) wrote the shared layer and has not named it yet.
      const other = await store.lease();
      const body = fake.blobs.get(shared.digest) as Buffer;
      await store.writeBlob(body, { digest: shared.digest, size: body.length }, { lease: other });
      if (outcome === "fails") {
        await expect(pullImage(client, ref("x/ko:ko"), { store })).rejects.toMatchObject({
          code: "DIGEST_MISMATCH",
        });
      } else {
        await pullImage(client, ref("x/ok:ok"), { store });
        await store.remove(`${fake.host}/x/ok:ok`);
      }
      const collector = await ImageStore.open({ root: dir });
      try {
        await collector.gc();
        expect(await blobsInStore()).toContain(shared.digest.slice(7));
        await other.release();
        await collector.gc();
        expect(await blobsInStore()).not.toContain(shared.digest.slice(7));
      } finally {
        await collector.close();
      }
    },
  );

  it("retries a blob after a 500 and after a 429 with Retry-After", async () => {
    const img = fake.addImage("flaky");
    const failures = [500, 429];
    fake.override = (req, res) => {
      if (!req.url?.endsWith(img.layers[0]!.digest) || failures.length === 0) return false;
      const status = failures.shift() as number;
      res.writeHead(status, status === 429 ? { "retry-after": "0" } : {});
      res.end();
      return true;
    };
    const result = await pullImage(client, ref("x/flaky:flaky"), { store });
    expect(result.manifestDigest).toBe(img.digest);
    expect(fake.requests.filter((r) => r.includes(img.layers[0]!.digest))).toHaveLength(3);
  });

  it("skips foreign layers, as docker does", async () => {
    const img = fake.addImage("foreign-base");
    const foreign = {
      mediaType: MediaType.DockerForeignLayerGzip,
      digest: digestOf("never served"),
      size: 12,
      urls: ["https://example.invalid/layer.tar.gz"],
    };
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.DockerManifest,
        config: { ...img.config, mediaType: MediaType.DockerConfig },
        layers: [{ ...foreign }, ...img.layers.map((l) => ({ ...l, mediaType: MediaType.DockerLayerGzip }))],
      }),
    );
    fake.manifests.set("foreign", { body, type: MediaType.DockerManifest });
    const result = await pullImage(client, ref("x/foreign:foreign"), { store });
    expect(result.image.manifest.layers).toHaveLength(3);
    expect(fake.requests.some((r) => r.includes(foreign.digest))).toBe(false);
  });

  it.each([
    ["answers it with 206 from there", true],
    ["ignores it and sends the whole blob again (200), which is skipped up to there", false],
  ])("resumes a dropped blob transfer with a Range request; the registry %s", async (_name, ranges) => {
    const img = fake.addImage("resume");
    const big = img.layers[0]!;
    const data = fake.blobs.get(big.digest)!;
    let drops = 0;
    fake.override = (req, res) => {
      if (!req.url?.endsWith(big.digest)) return false;
      if (req.headers.range && !ranges) {
        res.writeHead(200, { "content-length": big.size }).end(data);
        return true;
      }
      if (req.headers.range || drops > 0) return false;
      drops++;
      res.writeHead(200, { "content-length": big.size });
      res.write(data.subarray(0, 70_000));
      setTimeout(() => res.destroy(), 20);
      return true;
    };
    const result = await pullImage(client, ref("x/resume:resume"), { store });
    expect(result.manifestDigest).toBe(img.digest);
    expect((await store.layout.readBlob(big.digest)).equals(data)).toBe(true);
    expect(fake.requests.filter((r) => r.includes(big.digest))).toEqual([
      `GET /v2/x/resume/blobs/${big.digest}`,
      expect.stringMatching(new RegExp(`^GET /v2/x/resume/blobs/${big.digest} bytes=\\d+-$`)),
    ]);
  });

  it("picks the platform from an index and fails clearly when none matches", async () => {
    const amd = fake.addImage("amd", "amd64");
    const arm = fake.addImage("arm", "arm64");
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [
          {
            mediaType: MediaType.OciManifest,
            digest: amd.digest,
            size: amd.size,
            platform: { os: "linux", architecture: "amd64" },
          },
          {
            mediaType: MediaType.OciManifest,
            digest: arm.digest,
            size: arm.size,
            platform: { os: "linux", architecture: "arm64", variant: "v8" },
          },
        ],
      }),
    );
    fake.manifests.set("multi", { body: index, type: MediaType.OciIndex });
    const result = await pullImage(client, ref("x/multi:multi"), {
      store,
      platform: { os: "linux", architecture: "arm64" },
    });
    expect(result.manifestDigest).toBe(arm.digest);
    expect(result.digest).toBe(digestOf(index));
    const err = await pullImage(client, ref("x/multi:multi"), {
      store,
      platform: { os: "linux", architecture: "s390x" },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no matching manifest for linux\/s390x/);
  });

  it("stops when aborted and keeps nothing", async () => {
    const img = fake.addImage("slow");
    fake.override = (req, res) => {
      if (!req.url?.endsWith(img.layers[0]!.digest)) return false;
      res.writeHead(200, { "content-length": img.layers[0]!.size });
      res.write(Buffer.alloc(10));
      return true;
    };
    const indexBefore = await readFile(join(dir, "index.json"), "utf8");
    const ac = new AbortController();
    const p = pullImage(client, ref("x/slow:slow"), { store, signal: ac.signal });
    setTimeout(() => ac.abort(new Error("user cancelled")), 100);
    await expect(p).rejects.toThrow();
    await expectNothingKept(indexBefore);
  });
});
