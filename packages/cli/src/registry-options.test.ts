import { rm } from "node:fs/promises";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { withIO } from "./output.js";
import { registryClient } from "./registry-options.js";
import { runCli, tempDir } from "./testing.js";

describe("registryClient", () => {
  it("takes insecure registries from flags, the environment and the config file", async () => {
    const env = {
      TSBUILD_INSECURE_REGISTRIES: "env.example:5000",
      TSBUILD_CONFIG: "/nonexistent/tsbuild.json",
    };
    const client = withIO({ env }, () => registryClient({ "insecure-registry": ["flag.example"] }));
    try {
      expect(client.isInsecure("flag.example:443")).toBe(true);
      expect(client.isInsecure("env.example:5000")).toBe(true);
      expect(client.isInsecure("other.example")).toBe(false);
      expect(client.isInsecure("localhost:5000")).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("takes the registry timeouts from flags over the environment", async () => {
    const env = {
      TSBUILD_REGISTRY_HEADERS_TIMEOUT: "45",
      TSBUILD_REGISTRY_SPEED_TIME: "20s",
      TSBUILD_CONFIG: "/nonexistent/tsbuild.json",
    };
    const client = withIO({ env }, () =>
      registryClient({
        "registry-connect-timeout": "2s",
        "registry-speed-time": "1m",
        "registry-speed-limit": "4k",
      }),
    );
    try {
      expect(client.timeouts).toEqual({
        connectMs: 2000,
        headersMs: 45_000,
        speedLimit: 4096,
        speedTimeMs: 60_000,
      });
    } finally {
      await client.close();
    }
    expect(() => withIO({ env }, () => registryClient({ "registry-headers-timeout": "later" }))).toThrow(
      /--registry-headers-timeout: "later" is not a duration/,
    );
  });

  it("fails `pull` from a registry that never answers on the timeout the flag set, naming it", async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => void sockets.add(socket.on("error", () => {})));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const root = await tempDir("tsbuild-timeout-cli-");
    try {
      const r = await runCli(
        [
          "pull",
          "--registry-connect-timeout",
          "300ms",
          "--registry-headers-timeout",
          "300ms",
          `${host}/x/y:1`,
        ],
        { env: { TSBUILD_ROOT: root, TSBUILD_CONFIG: "/nonexistent/tsbuild.json" } },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `registry ${host} timed out: no response within 0.3 s (registry-headers-timeout)`,
      );
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
      await rm(root, { recursive: true, force: true });
    }
  });

  it("fails clearly on a broken config file", () => {
    expect(() => withIO({ env: { TSBUILD_CONFIG: "/dev/null/x.json" } }, () => registryClient({}))).toThrow(
      /cannot read \/dev\/null\/x\.json/,
    );
  });
});
