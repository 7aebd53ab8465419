import { MockAgent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { listTags, useRegistryFixtures } from "./__fixtures__/registry.js";
import { json } from "./__fixtures__/server.js";
import { RegistryClient } from "./client.js";
import { StaticCredentials } from "./credentials/store.js";
import { isRegistryError, RegistryError } from "./errors.js";

const { server, client, forget, bearerRegistry } = useRegistryFixtures(afterEach);
const SECRET = "s3cr3t-pa55word";

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
    const res = await listTags(good, s.host, "a/b");
    expect(res.status).toBe(200);
    await res.dump();

    const bad = client({
      credentials: new StaticCredentials({ [s.host]: { username: "alice", password: "wrong-pw-123" } }),
    });
    const err = await listTags(bad, s.host, "a/b").catch((e: unknown) => e);
    expect(isRegistryError(err, "UNAUTHORIZED")).toBe(true);
    expect((err as Error).message).toMatch(/incorrect username or password/);
    expect((err as Error).message).not.toContain("wrong-pw-123");
    expect(JSON.stringify(err)).not.toContain(SECRET);
  });

  it("refreshes the token once when the registry rejects it mid-session", async () => {
    const { s, revoke, issued } = await bearerRegistry();
    const c = client();
    const get = () => listTags(c, s.host, "library/x");
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
    const res = await listTags(c, s.host);
    expect(res.status).toBe(200);
    await res.dump();

    const err = await listTags(client(), s.host).catch((e: unknown) => e);
    expect(isRegistryError(err, "UNAUTHORIZED")).toBe(true);
    expect((err as Error).message).toMatch(/tsbuild login/);
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
    forget();
    const err = await client()
      .request({ registry: host, repository: "x", method: "GET", path: "/v2/" })
      .catch((e: unknown) => e);
    expect(isRegistryError(err, "CONNECTION_REFUSED")).toBe(true);
  });
});

describe("RegistryResponse helpers", () => {
  it("bounds bodies with or without Content-Length and rejects bad JSON", async () => {
    const s = await server((req, res) => {
      if (req.url === "/v2/") return json(res, 200, {});
      if (req.url === "/v2/x/manifests/declared") {
        res.writeHead(200, { "content-length": "2048" });
        return void res.end(Buffer.alloc(2048, 32));
      }
      if (req.url === "/v2/x/manifests/chunked") {
        res.writeHead(200, { "transfer-encoding": "chunked" });
        for (let i = 0; i < 4; i++) res.write(Buffer.alloc(512, 32));
        return void res.end();
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{not json");
    });
    const c = client();
    const get = (ref: string) =>
      c.request({ registry: s.host, repository: "x", method: "GET", path: `/v2/x/manifests/${ref}` });
    for (const ref of ["declared", "chunked"]) {
      const err = await (await get(ref)).bytes(1024).catch((e: unknown) => e);
      expect(isRegistryError(err, "TOO_LARGE")).toBe(true);
      expect((err as Error).message).toContain("1024-byte limit");
      expect((await (await get(ref)).bytes(4096)).length).toBe(2048);
    }
    const bad = await (await get("bad")).json().catch((e: unknown) => e);
    expect(isRegistryError(bad, "INVALID_RESPONSE")).toBe(true);
  });
});

describe("RegistryClient insufficient_scope", () => {
  it("adds the scope a 401 names to the retried token request", async () => {
    const s = await server((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const realm = `http://${req.headers.host}/token`;
      if (url.pathname === "/v2/") {
        return json(res, 401, {}, { "www-authenticate": `Bearer realm="${realm}",service="s"` });
      }
      if (url.pathname === "/token")
        return json(res, 200, { token: url.searchParams.getAll("scope").sort().join("+") });
      if (req.headers.authorization === "Bearer repository:me/app:pull,push+repository:other/base:pull") {
        return json(res, 201, {});
      }
      json(
        res,
        401,
        {},
        {
          "www-authenticate": `Bearer realm="${realm}",service="s",scope="repository:other/base:pull",error="insufficient_scope"`,
        },
      );
    });
    const c = client();
    const res = await c.request({
      registry: s.host,
      repository: "me/app",
      method: "POST",
      path: "/v2/me/app/blobs/uploads/?mount=sha256:1&from=other/base",
      expectStatus: [201],
    });
    expect(res.status).toBe(201);
    await res.dump();
  });
});

describe("RegistryClient and Docker Hub", () => {
  it.each(["docker.io", "index.docker.io", "registry-1.docker.io"])(
    "sends %s requests to registry-1.docker.io over HTTPS, with the Hub's credentials",
    async (registry) => {
      const agent = new MockAgent();
      agent.disableNetConnect();
      const hub = agent.get("https://registry-1.docker.io");
      hub.intercept({ path: "/v2/", method: "GET" }).reply(401, "", {
        headers: { "www-authenticate": 'Basic realm="hub"' },
      });
      hub
        .intercept({
          path: "/v2/library/nginx/manifests/latest",
          method: "GET",
          headers: { authorization: `Basic ${Buffer.from("alice:pw").toString("base64")}` },
        })
        .reply(200, { ok: true });
      const c = new RegistryClient({
        dispatcher: agent,
        credentials: new StaticCredentials({
          "https://index.docker.io/v1/": { username: "alice", password: "pw" },
        }),
      });
      const res = await c.request({
        registry,
        repository: "library/nginx",
        method: "GET",
        path: "/v2/library/nginx/manifests/latest",
      });
      expect(new URL(res.url).origin).toBe("https://registry-1.docker.io");
      expect(await res.json()).toEqual({ ok: true });
      agent.assertNoPendingInterceptors();
      await agent.close();
    },
  );
});
