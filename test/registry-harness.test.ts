import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RegistryAuthMode, startRegistry, TEST_USER, type TestRegistry } from "./support/registry.js";

// These tests pin the fixture itself with plain fetch, so a registry test that
// fails points at the client, not at the harness.

const basic = `Basic ${Buffer.from(`${TEST_USER.username}:${TEST_USER.password}`).toString("base64")}`;

async function authHeader(registry: TestRegistry, scope: string): Promise<Record<string, string>> {
  if (registry.auth === "anonymous") return {};
  if (registry.auth === "basic") return { Authorization: basic };
  const ts = registry.tokenServer;
  if (!ts) throw new Error("no token server");
  const res = await fetch(`${ts.realm}?service=${ts.service}&scope=${encodeURIComponent(scope)}`, {
    headers: { Authorization: basic },
  });
  const body = (await res.json()) as { token: string };
  return { Authorization: `Bearer ${body.token}` };
}

describe.each<RegistryAuthMode>(["anonymous", "basic", "token"])("test registry (%s)", (mode) => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: mode });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it("answers /v2/ with 200 anonymous, 401 with a challenge otherwise", async () => {
    const res = await fetch(`${registry.url}/v2/`);
    if (mode === "anonymous") {
      expect(res.status).toBe(200);
    } else {
      expect(res.status).toBe(401);
      const challenge = res.headers.get("www-authenticate") ?? "";
      expect(challenge).toMatch(
        mode === "basic" ? /^Basic / : /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token"/,
      );
    }
  });

  it("accepts a monolithic blob upload with the test user's credentials and serves it back", async () => {
    const headers = await authHeader(registry, "repository:harness/test:pull,push");
    const data = Buffer.from(`hello from ${mode}`);
    const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    const start = await fetch(`${registry.url}/v2/harness/test/blobs/uploads/`, { method: "POST", headers });
    expect(start.status).toBe(202);
    const location = new URL(start.headers.get("location") ?? "", registry.url);
    location.searchParams.set("digest", digest);
    const put = await fetch(location, {
      method: "PUT",
      headers: { ...headers, "Content-Type": "application/octet-stream" },
      body: data,
    });
    expect(put.status).toBe(201);
    const get = await fetch(`${registry.url}/v2/harness/test/blobs/${digest}`, { headers });
    expect(Buffer.from(await get.arrayBuffer())).toEqual(data);
  });

  it("rejects wrong credentials (an anonymous registry ignores them)", async () => {
    const bad = `Basic ${Buffer.from(`${TEST_USER.username}:wrong`).toString("base64")}`;
    if (mode === "anonymous") {
      const res = await fetch(`${registry.url}/v2/`, { headers: { Authorization: bad } });
      expect(res.status).toBe(200);
    } else if (mode === "basic") {
      const res = await fetch(`${registry.url}/v2/`, { headers: { Authorization: bad } });
      expect(res.status).toBe(401);
    } else {
      const ts = registry.tokenServer;
      const res = await fetch(`${ts?.realm}?service=${ts?.service}`, { headers: { Authorization: bad } });
      expect(res.status).toBe(401);
    }
  });

  it("refuses a push without credentials unless the registry is anonymous", async () => {
    const headers: Record<string, string> = {};
    if (mode === "token") {
      // An anonymous token asks for push but is granted nothing.
      const ts = registry.tokenServer;
      const res = await fetch(`${ts?.realm}?service=${ts?.service}&scope=repository:harness/test:pull,push`);
      headers.Authorization = `Bearer ${((await res.json()) as { token: string }).token}`;
    }
    const start = await fetch(`${registry.url}/v2/harness/test/blobs/uploads/`, { method: "POST", headers });
    expect(start.status).toBe(mode === "anonymous" ? 202 : 401);
  });
});
