import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { digestOf, hostPlatform, ImageStore, MediaType } from "@tsbuild/oci";
import { describe, expect, it } from "vitest";
import { tempDir } from "../testing.js";
import { gunzip, importTree, makeTree, readImage, tsb } from "./__fixtures__/image.js";

describe("image import", () => {
  it("makes a one-layer image from a directory and prints its id", async () => {
    const root = await tempDir();
    const id = await importTree(root, "custom-nginx:packaged", { SOURCE_DATE_EPOCH: "1700000000" });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const img = await readImage(root, "custom-nginx:packaged");
    expect(img.id).toBe(id);
    expect(img.names).toEqual(["docker.io/library/custom-nginx:packaged"]);
    expect(img.manifest.layers).toHaveLength(1);
    expect(img.manifest.layers[0]!.mediaType).toBe(MediaType.OciLayerGzip);
    const host = hostPlatform();
    expect(img.config).toMatchObject({
      os: host.os,
      architecture: host.architecture,
      created: "2023-11-14T22:13:20Z",
      history: [{ created: "2023-11-14T22:13:20Z", comment: "Imported from -" }],
    });
    expect(img.config.rootfs.diff_ids).toHaveLength(1);
  });

  it("gives the same id for the same tree after touch when SOURCE_DATE_EPOCH is set", async () => {
    const root = await tempDir();
    const dir = await makeTree();
    const env = { ...process.env, SOURCE_DATE_EPOCH: "1600000000" };
    const a = await tsb(root, ["import", dir, "a"], { env });
    const later = new Date();
    for (const p of ["etc", "etc/hello", "run.sh", ""]) await utimes(join(dir, p), later, later);
    const b = await tsb(root, ["import", dir, "b"], { env });
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });

  it("reads plain and gzip tarballs, from a file or stdin, to the same layer", async () => {
    const root = await tempDir();
    const dir = await makeTree();
    const work = await tempDir();
    const tarPath = join(work, "rootfs.tar");
    execFileSync("tar", ["-C", dir, "-cf", tarPath, "."]);
    const tar = await readFile(tarPath);
    await writeFile(join(work, "rootfs.tar.gz"), gzipSync(tar));
    const env = { ...process.env, SOURCE_DATE_EPOCH: "1600000000" };
    const plain = await tsb(root, ["import", tarPath, "plain"], { env });
    const gz = await tsb(root, ["import", join(work, "rootfs.tar.gz"), "gz"], { env });
    const stdin = await tsb(root, ["import", "-", "stdin"], { env, stdin: gzipSync(tar) });
    expect([plain.code, gz.code, stdin.code]).toEqual([0, 0, 0]);
    expect(gz.stdout).toBe(plain.stdout);
    expect(stdin.stdout).toBe(plain.stdout);
    const img = await readImage(root, "stdin");
    const store = await ImageStore.open({ root });
    const layerBytes = await store.layout.readBlob(img.manifest.layers[0]!.digest);
    await store.close();
    expect(digestOf(gunzip(layerBytes))).toBe(img.config.rootfs.diff_ids[0]);
    expect(digestOf(tar)).toBe(img.config.rootfs.diff_ids[0]);
    // The layer's docker SIZE (12 + 18 file bytes, 9 for the symlink) was recorded while importing.
    const recorded = join(root, "layer-sizes", img.manifest.layers[0]!.digest.replace(":", "/"));
    expect(await readFile(recorded, "utf8")).toBe("39\n");
  });

  it("imports a directory holding names that are not UTF-8, keeping their bytes in the layer", async () => {
    const root = await tempDir();
    const dir = await tempDir();
    const bad = Buffer.from("bad\xffname", "latin1");
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), bad]), "x\n");
    mkdirSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from("dir\xfe", "latin1")]));
    const r = await tsb(root, ["import", dir, "bytes:1"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const img = await readImage(root, "bytes:1");
    const store = await ImageStore.open({ root });
    const layer = gunzip(await store.layout.readBlob(img.manifest.layers[0]!.digest));
    await store.close();
    const names = execFileSync("tar", ["-tf", "-", "--quoting-style=literal"], { input: layer });
    expect(names.toString("latin1")).toBe("bad\xffname\ndir\xfe/\n");
  });

  it("takes -m and --platform", async () => {
    const root = await tempDir();
    const r = await tsb(root, [
      "image",
      "import",
      "-m",
      "my base",
      "--platform",
      "linux/arm64",
      await makeTree(),
      "x",
    ]);
    expect(r.code).toBe(0);
    const img = await readImage(root, "x");
    expect(img.config).toMatchObject({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(img.config.history?.[0]?.comment).toBe("my base");
  });

  it.each([
    [
      "a file that is not a tar",
      async (w: string) => {
        await writeFile(
          join(w, "junk"),
          "this is not a tarball at all, just some text that goes on".repeat(20),
        );
        return join(w, "junk");
      },
      /not a valid tar|cannot read tar/,
    ],
    ["a missing path", async (w: string) => join(w, "nope"), /cannot read import source/],
  ])("fails on %s with exit 1 and stores nothing", async (_n, make, message) => {
    const root = await tempDir();
    const work = await tempDir();
    const r = await tsb(root, ["import", await make(work), "bad"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: /);
    expect(r.stderr).toMatch(message);
    expect((await tsb(root, ["images", "-q"])).stdout).toBe("");
  });

  it("rejects a bad name before doing any work", async () => {
    const root = await tempDir();
    const r = await tsb(root, ["import", await makeTree(), "Bad:Name:x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: .*(invalid|reference)/i);
  });

  it("rejects a junk SOURCE_DATE_EPOCH as a usage error", async () => {
    const root = await tempDir();
    const r = await tsb(root, ["import", await makeTree(), "x"], {
      env: { ...process.env, SOURCE_DATE_EPOCH: "soon" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SOURCE_DATE_EPOCH");
  });
});

describe("image import --change", () => {
  it("applies config instructions like docker import -c", async () => {
    const root = await tempDir();
    const dir = await makeTree();
    const r = await tsb(root, [
      "import",
      "-c",
      'CMD ["/run.sh"]',
      "--change",
      "ENV A=1 B=$A-2",
      "-c",
      "ENV C=$A-3",
      "-c",
      "EXPOSE 80 53/udp 8000-8001",
      "-c",
      "WORKDIR /srv",
      "-c",
      "WORKDIR app",
      "-c",
      'LABEL org.example="x y"',
      "-c",
      "USER 1000:1000",
      "-c",
      "VOLUME /data",
      "-c",
      "STOPSIGNAL SIGINT",
      dir,
      "changed",
    ]);
    expect(r.stderr).toBe("");
    const img = await readImage(root, "changed");
    expect(img.config.config).toEqual({
      Cmd: ["/run.sh"],
      // One ENV line expands against the env before it (docker's rule), the next one sees A.
      Env: ["A=1", "B=-2", "C=1-3"],
      ExposedPorts: { "80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {} },
      WorkingDir: "/srv/app",
      Labels: { "org.example": "x y" },
      User: "1000:1000",
      Volumes: { "/data": {} },
      StopSignal: "SIGINT",
    });
  });

  it("shell-form ENTRYPOINT wraps in /bin/sh -c and resets CMD", async () => {
    const root = await tempDir();
    await tsb(root, ["import", "-c", "ENTRYPOINT exec app --flag", await makeTree(), "ep"]);
    expect((await readImage(root, "ep")).config.config).toEqual({
      Entrypoint: ["/bin/sh", "-c", "exec app --flag"],
      Cmd: null,
    });
  });

  it.each([
    ["RUN echo hi", /RUN is not a valid change command/],
    ["FROBNICATE x", /invalid --change/],
  ])("rejects %j", async (change, message) => {
    const root = await tempDir();
    const r = await tsb(root, ["import", "-c", change, await makeTree(), "bad"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect((await tsb(root, ["images", "-q"])).stdout).toBe("");
  });
});

describe("image import from a URL", () => {
  it("downloads a tarball over HTTP (127.0.0.1) and names the URL in history; HTTP errors fail", async () => {
    const { createServer } = await import("node:http");
    const dir = await makeTree();
    const tar = execFileSync("tar", ["-C", dir, "-cf", "-", "."]);
    const server = createServer((req, res) => {
      if (req.url === "/rootfs.tar.gz") {
        res.writeHead(200, { "content-type": "application/gzip" });
        res.end(gzipSync(tar));
      } else {
        res.writeHead(404);
        res.end("no");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const root = await tempDir();
      const url = `http://127.0.0.1:${port}/rootfs.tar.gz`;
      const r = await tsb(root, ["import", url, "fromurl"]);
      expect(r).toMatchObject({ code: 0, stderr: "" });
      const img = await readImage(root, "fromurl");
      expect(img.config.history?.[0]?.comment).toBe(`Imported from ${url}`);
      expect(img.config.rootfs.diff_ids[0]).toBe(digestOf(tar));
      const missing = await tsb(root, ["import", `http://127.0.0.1:${port}/nope.tar`, "x"]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("HTTP 404");
    } finally {
      server.close();
    }
  });
});
