import type { IncomingMessage, ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { listTags, useRegistryFixtures } from "./__fixtures__/registry.js";
import { json, recordingSleep } from "./__fixtures__/server.js";
import { isRegistryError, type RegistryError } from "./errors.js";

const { server, client, bearerRegistry } = useRegistryFixtures(afterEach);

describe("RegistryClient retries", () => {
  it.each<[string, (req: IncomingMessage, res: ServerResponse) => void]>([
    ["a 500", (_req, res) => json(res, 500, { errors: [{ code: "UNKNOWN", message: "boom" }] })],
    ["a dropped connection", (req) => req.socket.destroy()],
  ])("retries after %s, then succeeds", async (_name, fail) => {
    let n = 0;
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      n++;
      if (n === 1) return fail(req, res);
      json(res, 200, { n });
    });
    const res = await client().request({
      registry: s.host,
      repository: "x",
      method: "GET",
      path: "/v2/x/blobs/sha256:1",
    });
    expect(await res.json()).toEqual({ n: 2 });
  });

  it("waits as long as Retry-After says on 429", async () => {
    let n = 0;
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      n++;
      if (n === 1)
        return json(
          res,
          429,
          { errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] },
          { "retry-after": "3" },
        );
      json(res, 200, {});
    });
    const rec = recordingSleep();
    const c = client({ retry: { sleep: rec.sleep } });
    await (await listTags(c, s.host)).dump();
    expect(rec.delays).toEqual([3000]);
  });

  it("gives up after the configured attempts with a temporary TOOMANYREQUESTS error", async () => {
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      json(res, 429, { errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] }, { "retry-after": "0" });
    });
    const c = client({ retry: { attempts: 3 } });
    const err = await listTags(c, s.host).catch((e: unknown) => e);
    expect(isRegistryError(err, "TOOMANYREQUESTS")).toBe(true);
    expect((err as RegistryError).temporary).toBe(true);
    expect(s.requests.filter((r) => r.url === "/v2/x/tags/list")).toHaveLength(3);
  });

  it("does not retry a POST after a dropped connection", async () => {
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      req.socket.destroy();
    });
    const c = client();
    const err = await c
      .request({ registry: s.host, repository: "x", method: "POST", path: "/v2/x/blobs/uploads/", body: "x" })
      .catch((e: unknown) => e);
    expect(isRegistryError(err, "CONNECTION_RESET")).toBe(true);
    expect(s.requests.filter((r) => r.method === "POST")).toHaveLength(1);
  });
});

describe("RegistryClient redirects", () => {
  it("follows a redirect to another host without our Authorization", async () => {
    const storage = await server(
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end("blob-bytes");
      },
      { address: "127.0.0.2" },
    );
    const { s } = await bearerRegistry();
    const reg = await server((req, res) => {
      if (req.url === "/v2/") {
        return json(res, 401, {}, { "www-authenticate": `Bearer realm="${s.origin}/token",service="svc"` });
      }
      res.writeHead(307, {
        location: `${storage.origin}/blobs/abc?X-Amz-Signature=sig123&X-Amz-Credential=cred`,
      });
      res.end();
    });
    const c = client();
    const res = await c.request({
      registry: reg.host,
      repository: "x",
      method: "GET",
      path: "/v2/x/blobs/sha256:abc",
    });
    expect(await res.text()).toBe("blob-bytes");
    expect(res.url.startsWith(storage.origin)).toBe(true);
    const blobReq = reg.requests.find((r) => r.url.startsWith("/v2/x/blobs"))!;
    expect(blobReq.headers.authorization).toMatch(/^Bearer /);
    expect(storage.requests[0]!.headers.authorization).toBeUndefined();
  });
});

describe("RegistryClient mirrors", () => {
  it("pulls from a mirror, falls back to the origin when the mirror fails, and never pushes to one", async () => {
    const origin = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      json(res, 200, { from: "origin" });
    });
    const broken = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      json(res, 503, { errors: [{ code: "UNAVAILABLE", message: "down" }] });
    });
    const mirror = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      if (req.url?.includes("only-origin")) return json(res, 404, { errors: [{ code: "MANIFEST_UNKNOWN" }] });
      json(res, 200, { from: "mirror" });
    });
    const c = client({
      mirrors: { [origin.host]: [broken.origin, mirror.origin] },
      retry: { attempts: 1 },
    });
    const get = async (path: string) =>
      (await c.request({ registry: origin.host, repository: "library/x", method: "GET", path })).json();
    expect(await get("/v2/library/x/manifests/latest")).toEqual({ from: "mirror" });
    expect(await get("/v2/library/x/manifests/only-origin")).toEqual({ from: "origin" });
    const put = await c.request({
      registry: origin.host,
      repository: "library/x",
      method: "PUT",
      path: "/v2/library/x/manifests/latest",
      body: "{}",
    });
    expect(await put.json()).toEqual({ from: "origin" });
    expect(mirror.requests.some((r) => r.method === "PUT")).toBe(false);
  });

  it("applies a plain mirror list to Docker Hub only", async () => {
    const mirror = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      json(res, 200, { from: "mirror", url: req.url });
    });
    const c = client({ mirrors: [mirror.origin] });
    const res = await c.request({
      registry: "docker.io",
      repository: "library/busybox",
      method: "GET",
      path: "/v2/library/busybox/manifests/latest",
    });
    expect(await res.json()).toEqual({ from: "mirror", url: "/v2/library/busybox/manifests/latest" });
  });
});

describe("RegistryClient bodies, timeouts and aborts", () => {
  it("replays a body factory after a 503 and resends a POST only when the server did nothing", async () => {
    let puts = 0;
    let posts = 0;
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      if (req.method === "PUT") {
        puts++;
        if (puts === 1) return json(res, 503, {});
        return json(res, 201, { got: req.body });
      }
      posts++;
      if (posts === 1) return json(res, 429, {}, { "retry-after": "0" });
      if (posts === 2) return json(res, 500, {});
      json(res, 202, {});
    });
    const c = client();
    let made = 0;
    const { Readable } = await import("node:stream");
    const put = await c.request({
      registry: s.host,
      repository: "x",
      method: "PUT",
      path: "/v2/x/manifests/v1",
      body: () => {
        made++;
        return Readable.from([Buffer.from("part1-"), Buffer.from("part2")]);
      },
    });
    expect(await put.json()).toEqual({ got: "part1-part2" });
    expect(made).toBe(2);
    const err = await c
      .request({ registry: s.host, repository: "x", method: "POST", path: "/v2/x/blobs/uploads/" })
      .catch((e: unknown) => e);
    expect(isRegistryError(err, "SERVER_ERROR")).toBe(true);
    expect(posts).toBe(2); // 429 retried, 500 not (the POST may have done something)
  });

  it("times out a silent server, retrying idempotent requests", async () => {
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      // never answer
    });
    const c = client({ timeouts: { headersMs: 100 }, retry: { attempts: 2 } });
    const err = await listTags(c, s.host).catch((e: unknown) => e);
    expect(isRegistryError(err, "HEADERS_TIMEOUT")).toBe(true);
    expect((err as RegistryError).temporary).toBe(true);
    expect(s.requests.filter((r) => r.url === "/v2/x/tags/list")).toHaveLength(2);
  });

  it("stops on abort, also while waiting to retry", async () => {
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      json(res, 503, {}, { "retry-after": "30" });
    });
    const c = client({ retry: { baseDelayMs: 1 } });
    const controller = new AbortController();
    const pending = listTags(c, s.host, "x", { signal: controller.signal }).catch((e: unknown) => e);
    while (s.requests.filter((r) => r.url === "/v2/x/tags/list").length === 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    controller.abort();
    expect(isRegistryError(await pending, "ABORTED")).toBe(true);
  });

  it("logs one redacted line per exchange, without tokens", async () => {
    const { s } = await bearerRegistry();
    const lines: string[] = [];
    const c = client({ debug: (l) => lines.push(l) });
    await (await listTags(c, s.host, "library/x")).dump();
    expect(lines).toEqual([
      // loopback: HTTPS first, then the plain-HTTP fallback
      expect.stringMatching(
        /^GET https:\/\/127\.0\.0\.1:\d+\/v2\/ -> server gave HTTP response to HTTPS client/,
      ),
      `GET http://${s.host}/v2/ -> 401`,
      expect.stringMatching(
        new RegExp(
          `^GET http://${s.host.replace(/\./g, "\\.")}/token\\?service=test-registry&scope=.* -> 200$`,
        ),
      ),
      `GET http://${s.host}/v2/library/x/tags/list -> 200`,
    ]);
    expect(lines.join("\n")).not.toMatch(/tok-\d/);
  });
});
