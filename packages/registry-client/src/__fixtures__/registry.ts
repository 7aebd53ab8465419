import { RegistryClient, type RegistryRequest } from "../client.js";
import type { RegistryResponse } from "../response.js";
import { type FakeServer, json, startServer } from "./server.js";

/** listTags is the GET most client tests send: `/v2/<repository>/tags/list` on `host`. */
export function listTags(
  c: RegistryClient,
  host: string,
  repository = "x",
  extra: Partial<RegistryRequest> = {},
): Promise<RegistryResponse> {
  return c.request({
    registry: host,
    repository,
    method: "GET",
    path: `/v2/${repository}/tags/list`,
    ...extra,
  });
}

/**
 * useRegistryFixtures hands a test file `server()` and `client()` makers
 * whose servers and clients are closed after each test (call it at the top
 * level of the file, with vitest's afterEach).
 */
export function useRegistryFixtures(afterEach: (fn: () => Promise<void>) => void) {
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
  /** client uses tiny retry delays, so fault tests never wait. */
  function client(opts: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient {
    const c = new RegistryClient({ retry: { baseDelayMs: 1, maxDelayMs: 2, ...opts?.retry }, ...opts });
    clients.push(c);
    return c;
  }
  /** forget drops servers already closed by the test itself. */
  function forget(): void {
    servers.splice(0);
  }
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
  return { server, client, forget, bearerRegistry };
}
