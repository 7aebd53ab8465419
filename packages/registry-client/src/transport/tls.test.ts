import { execFileSync } from "node:child_process";
import { lookup as dnsLookup, type LookupAllOptions } from "node:dns";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { LookupFunction } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeServer, json, startServer } from "../__fixtures__/server.js";
import { RegistryClient } from "../client.js";
import { isRegistryError } from "../errors.js";

const NAME = "registry.tsbuild.test";
let dir: string;
let cert: string;
let key: string;
let clientCert: string;
let clientKey: string;

/** lookup sends our made-up host name to loopback, so it is a non-loopback name that still reaches the test server. */
const lookup = ((hostname: string, options: unknown, callback: unknown) => {
  const cb = (typeof options === "function" ? options : callback) as (...a: unknown[]) => void;
  const all = typeof options === "object" && options !== null && (options as { all?: boolean }).all;
  if (hostname !== NAME) return dnsLookup(hostname, options as LookupAllOptions, cb as never);
  if (all) cb(null, [{ address: "127.0.0.1", family: 4 }]);
  else cb(null, "127.0.0.1", 4);
}) as unknown as LookupFunction;

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: "ignore" });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsbuild-tls-"));
  for (const [name, cn] of [
    ["server", NAME],
    ["client", "tsbuild-client"],
  ] as const) {
    openssl([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, `${name}.key`),
      "-out",
      join(dir, `${name}.crt`),
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
      "-addext",
      `subjectAltName=DNS:${cn},IP:127.0.0.1`,
    ]);
  }
  cert = await readFile(join(dir, "server.crt"), "utf8");
  key = await readFile(join(dir, "server.key"), "utf8");
  clientCert = await readFile(join(dir, "client.crt"), "utf8");
  clientKey = await readFile(join(dir, "client.key"), "utf8");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ok = (_req: unknown, res: Parameters<typeof json>[0]) => json(res, 200, {});

async function withServer(
  tls: boolean,
  fn: (s: FakeServer) => Promise<void>,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const s = await startServer(ok, tls ? { tls: { cert, key, ...extra } } : {});
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

async function ping(options: ConstructorParameters<typeof RegistryClient>[0], registry: string) {
  const c = new RegistryClient({
    lookup,
    certsDir: join(dir, "no-certs.d"),
    retry: { attempts: 1 },
    ...options,
  });
  try {
    return await c.ping(registry);
  } finally {
    await c.close();
  }
}

describe("TLS verification", () => {
  it("rejects a self-signed registry that is not loopback, saying how to trust it", async () => {
    await withServer(true, async (s) => {
      const err = await ping({}, `${NAME}:${s.port}`).catch((e: unknown) => e);
      expect(isRegistryError(err, "TLS_ERROR")).toBe(true);
      expect((err as Error).message).toMatch(/--registry-ca/);
    });
  });

  it("trusts it with --registry-ca", async () => {
    await withServer(true, async (s) => {
      const ep = await ping({ caFiles: [join(dir, "server.crt")] }, `${NAME}:${s.port}`);
      expect(ep.origin).toBe(`https://${NAME}:${s.port}`);
    });
  });

  it("trusts it with certs.d/<host:port>/ca.crt and presents a client certificate from there", async () => {
    await withServer(
      true,
      async (s) => {
        const certsDir = join(dir, `certs.d-${s.port}`);
        const hostDir = join(certsDir, `${NAME}:${s.port}`);
        await mkdir(hostDir, { recursive: true });
        await writeFile(join(hostDir, "ca.crt"), cert);
        const noClientCert = await ping({ certsDir }, `${NAME}:${s.port}`).catch((e: unknown) => e);
        expect(isRegistryError(noClientCert)).toBe(true);
        await writeFile(join(hostDir, "client.cert"), clientCert);
        await writeFile(join(hostDir, "client.key"), clientKey);
        const ep = await ping({ certsDir }, `${NAME}:${s.port}`);
        expect(ep.origin).toBe(`https://${NAME}:${s.port}`);
      },
      { requestCert: true, rejectUnauthorized: true, ca: [clientCert] },
    );
  });

  it("skips verification for an --insecure-registry", async () => {
    await withServer(true, async (s) => {
      const ep = await ping({ insecureRegistries: [`${NAME}:${s.port}`] }, `${NAME}:${s.port}`);
      expect(ep.origin).toBe(`https://${NAME}:${s.port}`);
      expect(ep.insecure).toBe(true);
    });
  });

  it("skips verification for loopback, as docker's default insecure 127.0.0.0/8", async () => {
    await withServer(true, async (s) => {
      const ep = await ping({}, s.host);
      expect(ep.origin).toBe(`https://${s.host}`);
    });
  });
});

describe("plain HTTP", () => {
  it("falls back to HTTP for loopback registries", async () => {
    await withServer(false, async (s) => {
      expect((await ping({}, s.host)).origin).toBe(`http://${s.host}`);
      expect((await ping({}, `localhost:${s.port}`)).origin).toBe(`http://localhost:${s.port}`);
    });
  });

  it("refuses HTTP for other registries unless insecure, and says so", async () => {
    await withServer(false, async (s) => {
      const err = await ping({}, `${NAME}:${s.port}`).catch((e: unknown) => e);
      expect(isRegistryError(err, "HTTP_RESPONSE_TO_HTTPS")).toBe(true);
      expect((err as Error).message).toContain(`--insecure-registry ${NAME}:${s.port}`);
      for (const entry of [`${NAME}:${s.port}`, NAME]) {
        expect((await ping({ insecureRegistries: [entry] }, `${NAME}:${s.port}`)).origin).toBe(
          `http://${NAME}:${s.port}`,
        );
      }
    });
  });
});
