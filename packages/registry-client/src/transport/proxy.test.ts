import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeServer, json, startServer } from "../__fixtures__/server.js";
import { RegistryClient } from "../client.js";
import { proxyFor, proxyFromEnv } from "./proxy.js";

describe("proxyFor", () => {
  const settings = {
    httpProxy: "http://proxy:3128",
    httpsProxy: "http://sproxy:3128",
    noProxy: "internal.example, .corp.example,10.0.0.0/8, only.example:5000",
  };
  it.each([
    ["https://registry-1.docker.io/v2/", "http://sproxy:3128"],
    ["http://plain.example/v2/", "http://proxy:3128"],
    ["https://internal.example/v2/", undefined],
    ["https://a.internal.example/v2/", undefined],
    ["https://x.corp.example/v2/", undefined],
    ["https://corp.example/v2/", undefined],
    ["https://10.1.2.3:5000/v2/", undefined],
    ["https://11.1.2.3:5000/v2/", "http://sproxy:3128"],
    ["https://only.example:5000/v2/", undefined],
    ["https://only.example/v2/", "http://sproxy:3128"],
    ["http://127.0.0.1:5000/v2/", undefined],
    ["http://localhost:5000/v2/", undefined],
  ])("%s → %s", (url, want) => {
    expect(proxyFor(new URL(url), settings)).toBe(want);
  });

  it("honours NO_PROXY=* and reads lowercase variables first", () => {
    expect(proxyFor(new URL("https://x/"), { httpsProxy: "http://p", noProxy: "*" })).toBeUndefined();
    expect(proxyFromEnv({ https_proxy: "http://lower", HTTPS_PROXY: "http://upper", NO_PROXY: "a" })).toEqual(
      {
        httpsProxy: "http://lower",
        noProxy: "a",
      },
    );
  });
});

describe("RegistryClient through a proxy", () => {
  let proxy: Server | undefined;
  let registry: FakeServer | undefined;
  afterEach(async () => {
    proxy?.closeAllConnections();
    await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
    await registry?.close();
  });

  it("tunnels to a non-loopback registry with CONNECT", async () => {
    registry = await startServer((_req, res) => json(res, 200, {}));
    const tunnels: string[] = [];
    proxy = createServer();
    proxy.on("connect", (req, socket, head) => {
      tunnels.push(req.url ?? "");
      const [name, port] = (req.url ?? "").split(":");
      // The proxy resolves names itself; ours knows the made-up test name.
      const upstream = connect(
        Number(port),
        name === "registry.tsbuild.test" ? "127.0.0.1" : (name ?? ""),
        () => {
          socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
          upstream.write(head);
          upstream.pipe(socket);
          socket.pipe(upstream);
        },
      );
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy!.listen(0, "127.0.0.1", r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const host = `registry.tsbuild.test:${registry.port}`;
    const c = new RegistryClient({
      proxy: { httpProxy: proxyUrl, httpsProxy: proxyUrl },
      insecureRegistries: [host],
      retry: { attempts: 1 },
    });
    try {
      const ep = await c.ping(host);
      expect(ep.origin).toBe(`http://${host}`);
      expect(tunnels).toContain(host);
      expect(registry.requests.map((r) => r.url)).toContain("/v2/");
    } finally {
      await c.close();
    }
  });
});
