import { createServer, type Socket } from "node:net";
import { ImageStore } from "@tsbuild/oci";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "./testing.js";

describe("Ctrl-C during a registry command", () => {
  it("push waiting on a registry that never answers: 'Error: interrupted', exit 130", async () => {
    const sockets: Socket[] = [];
    const server = createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const root = await tempDir();
      const store = await ImageStore.open({ root });
      try {
        const config = await store.writeBlob(
          Buffer.from(
            JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
          ),
        );
        await store.addImage({
          manifest: {
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
            layers: [],
          },
          names: [`127.0.0.1:${port}/me/app:1`],
        });
      } finally {
        await store.close();
      }
      const pushed = runCli(["--root", root, "push", `127.0.0.1:${port}/me/app:1`], {
        env: { ...process.env, DOCKER_CONFIG: await tempDir() },
      });
      while (sockets.length === 0) await new Promise((r) => setTimeout(r, 10));
      process.emit("SIGINT", "SIGINT");
      const r = await pushed;
      expect(r.code).toBe(130);
      expect(r.stderr).toBe("Error: interrupted\n");
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
