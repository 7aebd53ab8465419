import { Agent } from "undici";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type FakeServer, json, startServer } from "../__fixtures__/server.js";
import { StaticCredentials } from "../credentials/store.js";
import { isRegistryError } from "../errors.js";
import { undiciSend } from "../transport/undici.js";
import { Authenticator } from "./authenticator.js";
import { parseChallenges } from "./challenge.js";
import { fetchToken, TOKEN_RESPONSE_LIMIT } from "./token.js";

const agent = new Agent();
const send = undiciSend(() => agent);
const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await agent.close();
});

async function tokenServer(reply: (body: string, url: URL) => [number, unknown]): Promise<FakeServer> {
  const s = await startServer((req, res) => {
    const [status, body] = reply(req.body, new URL(req.url ?? "/", "http://x"));
    json(res, status, body);
  });
  servers.push(s);
  return s;
}

const challengeFor = (s: FakeServer) => parseChallenges(`Bearer realm="${s.origin}/token",service="svc"`)[0]!;

describe("fetchToken", () => {
  it("prefers access_token and honours expires_in", async () => {
    const s = await tokenServer(() => [200, { token: "t-old", access_token: "t-new", expires_in: 300 }]);
    const t = await fetchToken({
      send,
      challenge: challengeFor(s),
      scopes: ["repository:a:pull"],
      credential: undefined,
      registry: "r",
      userAgent: "ua",
      now: () => 1_000_000,
    });
    expect(t).toEqual({ token: "t-new", expiresAt: 1_000_000 + 300_000 });
  });

  it("defaults expires_in to 60 s and accepts `token`", async () => {
    const s = await tokenServer(() => [200, { token: "t" }]);
    const t = await fetchToken({
      send,
      challenge: challengeFor(s),
      scopes: [],
      credential: undefined,
      registry: "r",
      userAgent: "ua",
      now: () => 0,
    });
    expect(t).toEqual({ token: "t", expiresAt: 60_000 });
  });

  it("exchanges an identity token with an OAuth2 POST", async () => {
    const s = await tokenServer(() => [200, { access_token: "from-refresh", refresh_token: "next-refresh" }]);
    const t = await fetchToken({
      send,
      challenge: challengeFor(s),
      scopes: ["repository:a:pull", "repository:b:pull"],
      credential: { identityToken: "id-token-123" },
      registry: "r",
      userAgent: "ua",
    });
    expect(t.token).toBe("from-refresh");
    expect(t.refreshToken).toBe("next-refresh");
    const req = s.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(req.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: "refresh_token",
      refresh_token: "id-token-123",
      client_id: "tsbuild",
      service: "svc",
      scope: "repository:a:pull repository:b:pull",
    });
  });

  it.each([
    [500, {}, "AUTH_FAILED", true],
    [200, { nothing: true }, "AUTH_FAILED", false],
    [401, { details: "no" }, "UNAUTHORIZED", false],
  ])("HTTP %i %j → %s", async (status, body, code, temporary) => {
    const s = await tokenServer(() => [status, body]);
    const err = await fetchToken({
      send,
      challenge: challengeFor(s),
      scopes: [],
      credential: { username: "u", password: "secret-pw-77" },
      registry: "r",
      userAgent: "ua",
    }).catch((e: unknown) => e);
    expect(isRegistryError(err, code as "AUTH_FAILED")).toBe(true);
    expect((err as { temporary: boolean }).temporary).toBe(temporary);
    expect((err as Error).message).not.toContain("secret-pw-77");
  });

  it("refuses a token reply over the limit, reading no further than it", async () => {
    const s = await tokenServer(() => [200, { token: "t", padding: "x".repeat(TOKEN_RESPONSE_LIMIT) }]);
    const err = await fetchToken({
      send,
      challenge: challengeFor(s),
      scopes: [],
      credential: undefined,
      registry: "r",
      userAgent: "ua",
    }).catch((e: unknown) => e);
    expect(isRegistryError(err, "TOO_LARGE")).toBe(true);
    expect((err as Error).message).toContain(`${TOKEN_RESPONSE_LIMIT}-byte limit`);
  });

  it("needs a realm", async () => {
    const err = await fetchToken({
      send,
      challenge: { scheme: "bearer", params: {} },
      scopes: [],
      credential: undefined,
      registry: "r",
      userAgent: "ua",
    }).catch((e: unknown) => e);
    expect(isRegistryError(err, "AUTH_FAILED")).toBe(true);
  });
});

describe("Authenticator token cache", () => {
  it("reuses a token per scope set until it expires, then fetches a new one", async () => {
    let n = 0;
    const s = await tokenServer(() => [200, { token: `t${++n}`, expires_in: 60 }]);
    let now = 0;
    const auth = new Authenticator({
      send,
      userAgent: "ua",
      now: () => now,
      credentials: new StaticCredentials(),
    });
    const origin = "http://registry.invalid";
    auth.setChallenge(origin, `Bearer realm="${s.origin}/token",service="svc"`);
    const target = (scopes: string[]) => ({ origin, registry: "registry.invalid", scopes });
    expect(await auth.authorization(target(["repository:a:pull"]))).toBe("Bearer t1");
    expect(await auth.authorization(target(["repository:a:pull"]))).toBe("Bearer t1");
    expect(await auth.authorization(target(["repository:b:pull"]))).toBe("Bearer t2");
    now = 56_000; // inside the renewal margin of a 60 s token
    expect(await auth.authorization(target(["repository:a:pull"]))).toBe("Bearer t3");
    expect(await auth.authorization(target(["repository:a:pull"]), true)).toBe("Bearer t4");
  });

  it("sends Basic only to Basic challenges and nothing when there is no challenge", async () => {
    const auth = new Authenticator({
      send,
      userAgent: "ua",
      credentials: new StaticCredentials({ "r.example": { username: "u", password: "p" } }),
    });
    const target = { origin: "https://r.example", registry: "r.example", scopes: [] };
    expect(await auth.authorization(target)).toBeUndefined();
    auth.setChallenge(target.origin, 'Basic realm="x"');
    expect(await auth.authorization(target)).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);
  });
});
