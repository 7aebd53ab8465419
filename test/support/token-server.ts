import { execFile } from "node:child_process";
import { createPrivateKey, createSign, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** TokenUser is an account the token server knows, with the actions it may take on every repository. */
export interface TokenUser {
  readonly username: string;
  readonly password: string;
  /** actions granted on any repository, e.g. ["pull", "push"]; default pull and push. */
  readonly actions?: readonly string[];
}

/** TokenServerOptions configures startTokenServer. */
export interface TokenServerOptions {
  /** dir receives the signing key and the certificate the registry trusts. */
  readonly dir: string;
  readonly users: readonly TokenUser[];
  /** anonymousActions are granted without credentials (default none: anonymous tokens carry no access). */
  readonly anonymousActions?: readonly string[];
  readonly service?: string;
  readonly issuer?: string;
}

/** TokenRequest records one request the token server answered, for assertions on scopes. */
export interface TokenRequest {
  readonly account: string | undefined;
  readonly scopes: readonly string[];
  readonly status: number;
}

/**
 * TokenServer implements the docker token spec (GET realm?service=&scope=) so the
 * real registry can run with `auth: token`. Tokens are JWTs signed RS256 and carry
 * the signing certificate in `x5c`, which the registry verifies against
 * `rootCertBundle`.
 */
export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly rootCertBundle: string;
  readonly requests: TokenRequest[];
  close(): Promise<void>;
}

/** startTokenServer creates a key and self-signed certificate with openssl and serves tokens on a port-0 server. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const keyPath = join(options.dir, "token.key");
  const certPath = join(options.dir, "token.crt");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "2",
    "-subj",
    "/CN=tsbuild test token issuer",
  ]);
  const key = createPrivateKey(await readFile(keyPath));
  const certPem = await readFile(certPath, "utf8");
  const certDer = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  const service = options.service ?? "tsbuild-test-registry";
  const issuer = options.issuer ?? "tsbuild-test-issuer";
  const requests: TokenRequest[] = [];

  const sign = (claims: object): string => {
    const header = { typ: "JWT", alg: "RS256", x5c: [certDer] };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign("RSA-SHA256").update(input).sign(key);
    return `${input}.${b64url(signature)}`;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://token.invalid");
    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ").filter(Boolean));
    let account: string | undefined;
    let actions = options.anonymousActions ?? [];
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Basic\s+(.+)$/i.exec(auth);
      const decoded = m?.[1] ? Buffer.from(m[1], "base64").toString("utf8") : "";
      const colon = decoded.indexOf(":");
      const user = options.users.find(
        (u) => u.username === decoded.slice(0, colon) && u.password === decoded.slice(colon + 1),
      );
      if (colon < 0 || user === undefined) {
        requests.push({ account: decoded.slice(0, Math.max(colon, 0)), scopes, status: 401 });
        res.writeHead(401, { "Content-Type": "application/json", "WWW-Authenticate": 'Basic realm="token"' });
        res.end(
          JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] }),
        );
        return;
      }
      account = user.username;
      actions = user.actions ?? ["pull", "push"];
    }
    const access = scopes.flatMap((scope) => {
      const parts = scope.split(":");
      if (parts.length < 3) return [];
      const type = parts[0] as string;
      const wanted = (parts[parts.length - 1] as string).split(",");
      const name = parts.slice(1, -1).join(":");
      const granted = wanted.filter((a) => actions.includes(a) || (a === "*" && actions.includes("push")));
      return granted.length ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const token = sign({
      iss: issuer,
      sub: account ?? "",
      aud: url.searchParams.get("service") ?? service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    });
    requests.push({ account, scopes, status: 200 });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certPath,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}
