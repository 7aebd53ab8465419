import { randomBytes } from "node:crypto";
import { lookup as dnsLookup, type LookupAllOptions } from "node:dns";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, createServer, type LookupFunction, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestOf, ImageStore, MediaType, parseReference } from "@tsbuild/oci";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startUpload, uploadBlob } from "./blobs.js";
import { RegistryClient } from "./client.js";
import type { RegistryError } from "./errors.js";
import { pullImage } from "./pull.js";
import { operationOf, type Timeouts } from "./transport/timeouts.js";

/**
 * These tests hold a pull or push against servers that misbehave in time —
 * accept and never answer, stall mid-body, trickle a byte a second — with
 * the limits set small. They assert the error code and what the message
 * names, never how long anything took.
 */

const SMALL: Partial<Timeouts> = { connectMs: 300, headersMs: 300, speedLimit: 1024, speedTimeMs: 300 };

let dir: string;
let store: ImageStore;
const closers: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsbuild-timeouts-"));
  store = await ImageStore.open({ root: join(dir, "store") });
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function client(options: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient {
  const c = new RegistryClient({ timeouts: SMALL, retry: { baseDelayMs: 1, maxDelayMs: 2 }, ...options });
  closers.push(() => c.close());
  return c;
}

/** silentServer accepts TCP connections and never sends a byte. */
async function silentServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

type BlobHandler = (res: ServerResponse, data: Buffer, req: IncomingMessage) => void;

/**
 * registry serves one image (a config and one 64 KiB layer) and lets
 * `onLayer` answer the layer's GETs; `requests` records every request line.
 */
async function registry(onLayer: BlobHandler) {
  const config = Buffer.from(
    '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
  );
  const layer = randomBytes(64 * 1024);
  const cfg = { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length };
  const lay = { mediaType: MediaType.OciLayerGzip, digest: digestOf(layer), size: layer.length };
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: cfg, layers: [lay] }),
  );
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.on("error", () => {});
    if (req.url === "/v2/") return void res.writeHead(200).end("{}");
    if (req.url?.includes("/manifests/")) {
      res.writeHead(200, {
        "content-type": MediaType.OciManifest,
        "content-length": manifest.length,
        "docker-content-digest": digestOf(manifest),
      });
      return void res.end(req.method === "HEAD" ? undefined : manifest);
    }
    if (req.url?.endsWith(cfg.digest)) return void res.writeHead(200).end(config);
    if (req.url?.endsWith(lay.digest)) return onLayer(res, layer, req);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, requests, layerDigest: lay.digest, ref: parseReference(`${host}/x/img:1`) };
}

describe("registry timeouts", () => {
  it("fails a pull from a server that accepts and never answers with HEADERS_TIMEOUT", async () => {
    const host = await silentServer();
    const err = (await pullImage(client(), parseReference(`${host}/x/img:1`), { store }).catch(
      (e: unknown) => e,
    )) as RegistryError;
    expect(err).toMatchObject({ code: "HEADERS_TIMEOUT" });
    expect(err.message).toContain(`ping to registry ${host} timed out: no response within 0.3 s`);
    expect(err.message).toContain("registry-headers-timeout");
  });

  it("fails on a token service that never answers with HEADERS_TIMEOUT naming the token request", async () => {
    const realm = await silentServer();
    const server = createHttpServer((_req, res) => {
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://${realm}/token",service="s"` }).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const err = (await client()
      .request({ registry: host, repository: "x", method: "GET", path: "/v2/x/tags/list" })
      .catch((e: unknown) => e)) as RegistryError;
    expect(err).toMatchObject({ code: "HEADERS_TIMEOUT" });
    expect(err.message).toContain(`token request from registry ${host} (via ${realm}) timed out`);
  });

  it.each([
    ["GET", "/v2/", "ping"],
    ["GET", "/v2/a/b/manifests/1", "manifest fetch"],
    ["HEAD", "/v2/a/manifests/sha256:00", "manifest check"],
    ["PUT", "/v2/a/manifests/1", "manifest push"],
    ["GET", "/v2/a/blobs/sha256:00", "blob download"],
    ["HEAD", "/v2/a/blobs/sha256:00", "blob check"],
    ["PATCH", "/v2/a/blobs/uploads/u1", "blob upload"],
    ["GET", "/v2/a/tags/list", "tag list"],
    ["GET", "/elsewhere", "request"],
  ])("names %s %s a %s", (method, path, operation) => {
    expect(operationOf(method, new URL(path, "https://r.example"))).toBe(operation);
  });

  it("fails to connect to a server that never completes the TLS handshake with CONNECT_TIMEOUT", async () => {
    const port = (await silentServer()).split(":")[1];
    // A made-up name that resolves to loopback: not a loopback name, so HTTPS only, as for a remote registry.
    const lookup = ((hostname: string, options: unknown, callback: unknown) => {
      const cb = (typeof options === "function" ? options : callback) as (...a: unknown[]) => void;
      const all = typeof options === "object" && options !== null && (options as { all?: boolean }).all;
      if (hostname !== "hang.test") return dnsLookup(hostname, options as LookupAllOptions, cb as never);
      if (all) cb(null, [{ address: "127.0.0.1", family: 4 }]);
      else cb(null, "127.0.0.1", 4);
    }) as unknown as LookupFunction;
    const c = client({ lookup, certsDir: join(dir, "certs.d") });
    const err = (await c
      .request({ registry: `hang.test:${port}`, repository: "x", method: "GET", path: "/v2/x/tags/list" })
      .catch((e: unknown) => e)) as RegistryError;
    expect(err).toMatchObject({ code: "CONNECT_TIMEOUT" });
    expect(err.message).toContain(`registry hang.test:${port} timed out: no connection within 0.3 s`);
    expect(err.message).toContain("registry-connect-timeout");
  });

  it("fails a blob body that stalls mid-transfer with TRANSFER_TOO_SLOW, after one resume", async () => {
    const reg = await registry((res, data) => {
      res.writeHead(200, { "content-length": data.length });
      res.write(data.subarray(0, 1000)); // and never more
    });
    const err = (await pullImage(client(), reg.ref, { store }).catch((e: unknown) => e)) as RegistryError;
    expect(err).toMatchObject({ code: "TRANSFER_TOO_SLOW" });
    expect(err.message).toContain(`blob download from registry ${reg.host} too slow: under 1024 bytes/s`);
    expect(err.message).toContain("registry-speed-limit, registry-speed-time");
    expect(reg.requests.filter((r) => r.endsWith(reg.layerDigest))).toHaveLength(2);
  });

  it("fails a blob body trickling one byte a second with TRANSFER_TOO_SLOW", async () => {
    const reg = await registry((res, data) => {
      res.writeHead(200, { "content-length": data.length }).flushHeaders();
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= data.length) return clearInterval(timer);
        res.write(data.subarray(sent, ++sent));
      }, 1000);
      res.on("close", () => clearInterval(timer));
    });
    const err = (await pullImage(client(), reg.ref, { store }).catch((e: unknown) => e)) as RegistryError;
    expect(err).toMatchObject({ code: "TRANSFER_TOO_SLOW" });
    expect(err.message).toContain(`blob download from registry ${reg.host} too slow`);
  });

  it("does not blame the registry for a reader slower than the floor", async () => {
    const reg = await registry((res, data) => {
      res.writeHead(200, { "content-length": data.length * 64 });
      for (let i = 0; i < 64; i++) res.write(data);
      res.end();
    });
    const c = client();
    for (const path of [`/v2/x/blobs/${reg.layerDigest}`, "/v2/x/manifests/1"]) {
      const res = await c.request({ registry: reg.host, repository: "x", method: "GET", path });
      // Nobody reads for several windows (as when the disk is slow); the bytes were there all along.
      await new Promise((r) => setTimeout(r, 1000));
      let size = 0;
      for await (const chunk of res.body) size += (chunk as Buffer).length;
      expect(size).toBe(path.includes("blobs") ? 64 * 64 * 1024 : Number(res.header("content-length")));
    }
  });

  it("fails an upload the registry stops reading with TRANSFER_TOO_SLOW", async () => {
    const file = join(dir, "blob");
    const data = randomBytes(32 * 1024 * 1024);
    await writeFile(file, data);
    const requests: string[] = [];
    const server = createHttpServer((req, res) => {
      requests.push(`${req.method} ${req.url?.split("?")[0]}`);
      if (req.url === "/v2/") return void res.writeHead(200).end("{}");
      if (req.method === "POST") return void res.writeHead(202, { location: "/v2/x/blobs/uploads/1" }).end();
      req.pause(); // takes what the socket buffers hold, then nothing
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The headers timeout, which undici also applies while the socket cannot take more, stays out of the way.
    const c = client({ timeouts: { ...SMALL, headersMs: 60_000 } });
    const target = { registry: host, repository: "x" };
    const session = await startUpload(c, target);
    if (session.mounted) throw new Error("unexpected mount");
    const desc = { digest: digestOf(data), size: data.length };
    const err = (await uploadBlob(c, target, session, desc, { path: file }).catch(
      (e: unknown) => e,
    )) as RegistryError;
    expect(err).toMatchObject({ code: "TRANSFER_TOO_SLOW" });
    expect(err.message).toContain(`blob upload to registry ${host} too slow`);
    // Retried once (the body is a file range, so it can be sent again), not five times.
    expect(requests.filter((r) => r.startsWith("PUT"))).toHaveLength(2);
  });
});
