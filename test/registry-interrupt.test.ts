import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { digestOf, MediaType } from "@tsbuild/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../packages/cli/src/testing.js";

const MAIN = join(import.meta.dirname, "..", "packages", "cli", "dist", "main.js");

describe("Ctrl-C during tsbuild pull", () => {
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const small = Buffer.from("a small layer that arrives whole");
  const stalled = Buffer.alloc(1_000_000, 1);
  const desc = (mediaType: string, b: Buffer) => ({ mediaType, digest: digestOf(b), size: b.length });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: desc(MediaType.OciConfig, config),
      layers: [desc(MediaType.OciLayerGzip, small), desc(MediaType.OciLayerGzip, stalled)],
    }),
  );
  // The second layer sends its headers and a few bytes, then nothing: the pull hangs until interrupted.
  const server = createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/v2/") return void res.writeHead(200).end();
    if (url.includes("/manifests/")) {
      return void res.writeHead(200, { "content-type": MediaType.OciManifest }).end(manifest);
    }
    for (const b of [config, small]) if (url.endsWith(digestOf(b))) return void res.writeHead(200).end(b);
    if (url.endsWith(digestOf(stalled))) {
      res.writeHead(200, { "content-length": stalled.length });
      res.write(stalled.subarray(0, 1000));
      return;
    }
    res.writeHead(404).end();
  });
  let dir: string;

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    dir = await tempDir("tsbuild-interrupt-");
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("stops, exits 130 (as a shell reports docker killed by Ctrl-C) and leaves the store as it was", async () => {
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const root = join(dir, "store");
    const child = spawn(process.execPath, [MAIN, "--root", root, "pull", `${host}/me/slow:1`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
    });
    const small12 = digestOf(small).slice(7, 19);
    while (!stdout.includes(`${small12}: Pull complete`)) {
      if (child.exitCode !== null) throw new Error(`pull ended early: ${stdout}${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const exited = once(child, "exit");
    child.kill("SIGINT");
    const [code] = await exited;
    expect(code).toBe(130);
    expect(stderr).toBe("Error: interrupted\n");
    expect(await readdir(join(root, "blobs", "sha256")).catch(() => [])).toEqual([]);
    const index = JSON.parse(await readFile(join(root, "index.json"), "utf8")) as { manifests: unknown[] };
    expect(index.manifests).toEqual([]);
  });
});
