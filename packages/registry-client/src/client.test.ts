import { afterEach, describe, expect, it } from "vitest";
import { type FakeServer, json, recordingSleep, startServer } from "./__fixtures__/server.js";
import { RegistryClient } from "./client.js";
import { StaticCredentials } from "./credentials/store.js";
import { isRegistryError, RegistryError } from "./errors.js";

const servers: FakeServer[] = [];
const clients: RegistryClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(...args: Parameters<typeof startServer>): Promise<FakeServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

function client(opts: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient {
  const c = new RegistryClient({ retry: { baseDelayMs: 1, maxDelayMs: 2, ...opts.retry }, ...opts });
  clients.push(c);
  return c;
}

const SECRET = "s3cr3t-pa55word";

/** bearerRegistry serves /v2/ behind a token service on the same server. */
async function bearerRegistry(options: { user?: string; password?: string; expiresIn?: number } = {}) {
  let issued = 0;
  const valid = new Set<string>();
  const s = await server((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/token") {
      const auth = req.headers.authorization;
      if (options.user) {
        const want = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString("base64")}`;
        if (auth !== want) return json(res, 401, { details: "incorrect username or password" });
      }
      issued++;
      const token = `tok-${issued}-${url.searchParams.getAll("scope").join("+")}`;
      valid.add(token);
      return json(res, 200, { token, ...(options.expiresIn ? { expires_in: options.expiresIn } : {}) });
    }
    const challenge = `Bearer realm="${s.origin}/token",service="test-registry"`;
    const token = req.headers.authorization?.replace(/^Bearer /, "");
    if (!token || !valid.has(token)) {
      const scope = url.pathname.startsWith("/v2/library/") ? `,scope="repository:library/x:pull"` : "";
      return json(
        res,
        401,
        { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
        {
          "www-authenticate": challenge + scope,
        },
      );
    }
    if (url.pathname === "/v2/") return json(res, 200, {});
    return json(res, 200, { ok: true, path: url.pathname });
  });
  return { s, revoke: () => valid.clear(), issued: () => issued };
}

describe("RegistryClient bearer auth", () => {
  it("fetches an anonymous token with the repository scope and caches it", async () => {
    const { s, issued } = await bearerRegistry();
    const c = client();
    for (let i = 0; i < 3; i++) {
      const res = await c.request({
        registry: s.host,
        repository: "library/x",
        method: "GET",
        path: "/v2/library/x/manifests/latest",
      });
      expect(await res.json()).toEqual({ ok: true, path: "/v2/library/x/manifests/latest" });
    }
    expect(issued()).toBe(1);
    const tokenReq = s.requests.find((r) => r.url.startsWith("/token"))!;
    const q = new URL(tokenReq.url, "http://x").searchParams;
    expect(q.get("service")).toBe("test-registry");
    expect(q.getAll("scope")).toEqual(["repository:library/x:pull"]);
    expect(tokenReq.headers.authorization).toBeUndefined();
  });

  it("asks for every scope (pull,push plus mount source) in one token request", async () => {
    const { s } = await bearerRegistry();
    const c = client();
    await c.request({
      registry: s.host,
      repository: "me/new",
      method: "POST",
      path: "/v2/me/new/blobs/uploads/?mount=sha256:abc&from=me/old",
      extraScopes: ["repository:me/old:pull"],
      expectStatus: [200],
    });
    const tokenReq = s.requests.find((r) => r.url.startsWith("/token"))!;
    const scopes = new URL(tokenReq.url, "http://x").searchParams.getAll("scope");
    expect(scopes.sort()).toEqual(["repository:me/new:pull,push", "repository:me/old:pull"]);
  });

  it("sends Basic credentials to the token service and never shows the password", async () => {
    const { s } = await bearerRegistry({ user: "alice", password: SECRET });
    const good = client({
      credentials: new StaticCredentials({ [s.host]: { username: "alice", password: SECRET } }),
    });
    const res = await good.request({
      registry: s.host,
      repository: "a/b",
      method: "GET",
      path: "/v2/a/b/tags/list",
    });
    expect(res.status).toBe(200);
    await res.dump();

    const bad = client({
      credentials: new StaticCredentials({ [s.host]: { username: "alice", password: "wrong-pw-123" } }),
    });
    const err = await bad
      .request({ registry: s.host, repository: "a/b", method: "GET", path: "/v2/a/b/tags/list" })
      .catch((e: unknown) => e);
    expect(isRegistryError(err, "UNAUTHORIZED")).toBe(true);
    expect((err as Error).message).toMatch(/incorrect username or password/);
    expect((err as Error).message).not.toContain("wrong-pw-123");
    expect(JSON.stringify(err)).not.toContain(SECRET);
  });

  it("refreshes the token once when the registry rejects it mid-session", async () => {
    const { s, revoke, issued } = await bearerRegistry();
    const c = client();
    const get = () =>
      c.request({
        registry: s.host,
        repository: "library/x",
        method: "GET",
        path: "/v2/library/x/tags/list",
      });
    await (await get()).dump();
    revoke();
    const res = await get();
    expect(res.status).toBe(200);
    await res.dump();
    expect(issued()).toBe(2);
  });

  it("does not resend a stream body after a 401; the caller gets UNAUTHORIZED", async () => {
    const { s, revoke } = await bearerRegistry();
    const c = client();
    const patch = { registry: s.host, repository: "r", method: "PATCH", path: "/v2/r/blobs/uploads/u" };
    await (await c.request({ ...patch, body: "replayable" })).dump();
    revoke();
    async function* body() {
      yield Buffer.from("chunk");
    }
    const err = await c.request({ ...patch, body: body() }).catch((e: unknown) => e);
    expect(isRegistryError(err, "UNAUTHORIZED")).toBe(true);
    expect((err as RegistryError).status).toBe(401);
  });
});

describe("RegistryClient auth learned from a request", () => {
  it("answers a challenge that /v2/ did not announce, and remembers it for stream bodies", async () => {
    const s = await server((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/v2/") return json(res, 200, {});
      if (url.pathname === "/token") return json(res, 200, { token: "late-token" });
      if (req.headers.authorization === "Bearer late-token") return json(res, 202, { body: req.body });
      json(
        res,
        401,
        {},
        { "www-authenticate": `Bearer realm="http://${req.headers.host}/token",service="s"` },
      );
    });
    const c = client();
    const ok = await c.request({
      registry: s.host,
      repository: "x",
      method: "PUT",
      path: "/v2/x/manifests/a",
      body: "m",
    });
    expect(await ok.json()).toEqual({ body: "m" });
    async function* stream() {
      yield Buffer.from("streamed");
    }
    const c2 = client();
    const first = await c2
      .request({
        registry: s.host,
        repository: "x",
        method: "PATCH",
        path: "/v2/x/blobs/uploads/u",
        body: stream(),
      })
      .catch((e: unknown) => e);
    expect(isRegistryError(first, "UNAUTHORIZED")).toBe(true);
    const second = await c2.request({
      registry: s.host,
      repository: "x",
      method: "PATCH",
      path: "/v2/x/blobs/uploads/u",
      body: stream(),
    });
    expect(await second.json()).toEqual({ body: "streamed" });
  });
});

describe("RegistryClient basic auth", () => {
  it("answers a Basic challenge with the stored credentials", async () => {
    const want = `Basic ${Buffer.from(`bob:${SECRET}`).toString("base64")}`;
    const s = await server((req, res) => {
      if (req.headers.authorization !== want) {
        return json(
          res,
          401,
          { errors: [{ code: "UNAUTHORIZED", message: "basic auth" }] },
          {
            "www-authenticate": 'Basic realm="Registry Realm"',
          },
        );
      }
      json(res, 200, {});
    });
    const c = client({
      credentials: new StaticCredentials({ [s.host]: { username: "bob", password: SECRET } }),
    });
    const ep = await c.ping(s.host);
    expect(ep.authScheme).toBe("basic");
    expect(ep.origin).toBe(`http://${s.host}`);
    const res = await c.request({
      registry: s.host,
      repository: "x",
      method: "GET",
      path: "/v2/x/tags/list",
    });
    expect(res.status).toBe(200);
    await res.dump();

    const anon = client();
    const err = await anon
      .request({ registry: s.host, repository: "x", method: "GET", path: "/v2/x/tags/list" })
      .catch((e: unknown) => e);
    expect(isRegistryError(err, "UNAUTHORIZED")).toBe(true);
    expect((err as Error).message).toMatch(/tsbuild login/);
  });
});

describe("RegistryClient retries", () => {
  it("retries 500 then succeeds", async () => {
    let n = 0;
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      n++;
      if (n === 1) return json(res, 500, { errors: [{ code: "UNKNOWN", message: "boom" }] });
      json(res, 200, { n });
    });
    const c = client();
    const res = await c.request({
      registry: s.host,
      repository: "x",
      method: "GET",
      path: "/v2/x/manifests/a",
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
    await (
      await c.request({ registry: s.host, repository: "x", method: "GET", path: "/v2/x/tags/list" })
    ).dump();
    expect(rec.delays).toEqual([3000]);
  });

  it("gives up after the configured attempts with a temporary TOOMANYREQUESTS error", async () => {
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      json(res, 429, { errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] }, { "retry-after": "0" });
    });
    const c = client({ retry: { attempts: 3 } });
    const err = await c
      .request({ registry: s.host, repository: "x", method: "GET", path: "/v2/x/tags/list" })
      .catch((e: unknown) => e);
    expect(isRegistryError(err, "TOOMANYREQUESTS")).toBe(true);
    expect((err as RegistryError).temporary).toBe(true);
    expect(s.requests.filter((r) => r.url === "/v2/x/tags/list")).toHaveLength(3);
  });

  it("retries a dropped connection", async () => {
    let n = 0;
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      n++;
      if (n === 1) return req.socket.destroy();
      json(res, 200, { n });
    });
    const c = client();
    const res = await c.request({
      registry: s.host,
      repository: "x",
      method: "GET",
      path: "/v2/x/blobs/sha256:1",
    });
    expect(await res.json()).toEqual({ n: 2 });
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

describe("RegistryClient errors", () => {
  it("turns a distribution error body into a typed error with method and URL", async () => {
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      json(res, 404, {
        errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: { Tag: "nope" } }],
      });
    });
    const c = client();
    const err = (await c
      .request({ registry: s.host, repository: "x", method: "GET", path: "/v2/x/manifests/nope" })
      .catch((e: unknown) => e)) as RegistryError;
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.code).toBe("MANIFEST_UNKNOWN");
    expect(err.status).toBe(404);
    expect(err.temporary).toBe(false);
    expect(err.message).toContain(`GET http://${s.host}/v2/x/manifests/nope`);
  });

  it("accepts listed statuses (HEAD 404 is an answer, not an error)", async () => {
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      res.writeHead(404);
      res.end();
    });
    const c = client();
    const res = await c.request({
      registry: s.host,
      repository: "x",
      method: "HEAD",
      path: "/v2/x/blobs/sha256:1",
      expectStatus: [200, 404],
    });
    expect(res.status).toBe(404);
  });

  it("says what to do when nothing listens", async () => {
    const s = await server(() => {});
    const host = s.host;
    await s.close();
    servers.splice(0);
    const err = await client()
      .request({ registry: host, repository: "x", method: "GET", path: "/v2/" })
      .catch((e: unknown) => e);
    expect(isRegistryError(err, "CONNECTION_REFUSED")).toBe(true);
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
    const err = await c
      .request({ registry: s.host, repository: "x", method: "GET", path: "/v2/x/tags/list" })
      .catch((e: unknown) => e);
    expect(isRegistryError(err, "TIMEOUT")).toBe(true);
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
    const pending = c
      .request({
        registry: s.host,
        repository: "x",
        method: "GET",
        path: "/v2/x/tags/list",
        signal: controller.signal,
      })
      .catch((e: unknown) => e);
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
    await (
      await c.request({
        registry: s.host,
        repository: "library/x",
        method: "GET",
        path: "/v2/library/x/tags/list",
      })
    ).dump();
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
