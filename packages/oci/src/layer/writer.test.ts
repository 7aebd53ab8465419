import { execFileSync } from "node:child_process";
import { link, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { extract } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../digest.js";
import type { LayerEntry } from "./entry.js";
import { createLayer, writeLayerTo } from "./writer.js";

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

interface Hdr {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string | null;
  uname: string;
  pax: Record<string, string> | null;
  body: string;
  raw: Buffer;
}

async function listTar(tar: Buffer): Promise<Hdr[]> {
  const out: Hdr[] = [];
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const body = await collect(entry as unknown as Readable);
      const h = entry.header;
      out.push({
        name: h.name,
        type: h.type ?? "",
        mode: h.mode ?? 0,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
        linkname: h.linkname ?? null,
        uname: h.uname ?? "",
        pax: (h.pax as Record<string, string> | undefined) ?? null,
        body: body.toString(),
        raw: body,
      });
    }
  })();
  ex.end(tar);
  await done;
  return out;
}

describe("createLayer from entries", () => {
  const long = `${"d".repeat(120)}/${"f".repeat(120)}`;
  const entries: LayerEntry[] = [
    { path: "b.txt", type: "file", content: "bee", mode: 0o4755, uid: 1000, gid: 1001, mtime: 2_000_000_000 },
    { path: "a", type: "dir", mode: 0o1777 },
    { path: "a/x", type: "file", content: "x" },
    { path: "a.b", type: "file", content: "" },
    { path: "a/link", type: "symlink", linkname: "../b.txt" },
    { path: "a/hard", type: "hardlink", linkname: "b.txt" },
    { path: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
    { path: "fifo", type: "fifo" },
    { path: "héllo-wörld", type: "file", content: "unicode" },
    { path: long, type: "file", content: "long", xattrs: { "user.k": "v" } },
    { path: "big-uid", type: "file", uid: 5_000_000, gid: 5_000_000 },
  ];

  it("sorts parents first, keeps modes and owners, writes PAX where needed, is deterministic", async () => {
    const a = createLayer({ entries }, { sourceDateEpoch: 1_700_000_000 });
    const gz = await collect(a.stream);
    const r = await a.result;
    expect(gz.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
    const tar = gunzipSync(gz);
    expect(r.digest).toBe(digestOf(gz));
    expect(r.diffId).toBe(digestOf(tar));
    expect(r.size).toBe(gz.length);
    expect(r.uncompressedSize).toBe(tar.length);

    const again = createLayer({ entries: [...entries].reverse() }, { sourceDateEpoch: 1_700_000_000 });
    expect(digestOf(await collect(again.stream))).toBe(r.digest);

    const h = await listTar(tar);
    expect(h.map((e) => e.name)).toEqual([
      "a/",
      "a/hard",
      "a/link",
      "a/x",
      "a.b",
      "b.txt",
      "big-uid",
      long,
      "dev/null",
      "fifo",
      "héllo-wörld",
    ]);
    const by = Object.fromEntries(h.map((e) => [e.name, e]));
    expect(by["a/"]!.mode).toBe(0o1777);
    expect(by["b.txt"]).toMatchObject({
      mode: 0o4755,
      uid: 1000,
      gid: 1001,
      mtime: 1_700_000_000,
      body: "bee",
    });
    expect(by["a/link"]).toMatchObject({ type: "symlink", linkname: "../b.txt" });
    expect(by["a/hard"]).toMatchObject({ type: "link", linkname: "b.txt" });
    expect(by["dev/null"]).toMatchObject({ type: "character-device", mode: 0o666 });
    expect(by.fifo!.type).toBe("fifo");
    expect(by[long]!.pax).toMatchObject({ path: long, "SCHILY.xattr.user.k": "v" });
    expect(by["héllo-wörld"]!.body).toBe("unicode");
    expect(by["big-uid"]!.pax).toMatchObject({ uid: "5000000", gid: "5000000" });
    const gnu = execFileSync("tar", ["-tv", "--numeric-owner"], { input: tar }).toString();
    expect(gnu).toMatch(/5000000\/5000000 .* big-uid/);
    expect(h.every((e) => e.uname === "")).toBe(true);
  });

  it("emits plain tar with compression none", async () => {
    const l = createLayer({ entries: [{ path: "f", type: "file", content: "hi" }] }, { compression: "none" });
    const tar = await collect(l.stream);
    const r = await l.result;
    expect(r.digest).toBe(r.diffId);
    expect((await listTar(tar)).map((e) => e.body)).toEqual(["hi"]);
  });

  it("compresses an existing tar stream as-is", async () => {
    const plain = createLayer(
      { entries: [{ path: "f", type: "file", content: "x" }] },
      { compression: "none" },
    );
    const tar = await collect(plain.stream);
    const l = createLayer({ tar: Readable.from([tar.subarray(0, 100), tar.subarray(100)]) });
    const gz = await collect(l.stream);
    expect(gunzipSync(gz).equals(tar)).toBe(true);
    expect(await l.result).toMatchObject({
      diffId: digestOf(tar),
      digest: digestOf(gz),
      uncompressedSize: tar.length,
    });
  });

  it("rejects '..' in entry paths", async () => {
    const l = createLayer({ entries: [{ path: "a/../../x", type: "file" }] });
    await expect(collect(l.stream)).rejects.toMatchObject({ code: "UNSAFE_TAR_ENTRY" });
    await expect(l.result).rejects.toMatchObject({ code: "UNSAFE_TAR_ENTRY" });
  });

  it("compresses many blocks in parallel into one gzip member that gunzip accepts", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const l = createLayer(
      { entries: [{ path: "big", type: "file", content: big }] },
      { blockSize: 256 * 1024 },
    );
    const gz = await collect(l.stream);
    const tar = gunzipSync(gz);
    const [e] = await listTar(tar);
    expect(digestOf(e!.raw)).toBe(digestOf(big));
    expect(() => execFileSync("gzip", ["-t"], { input: gz })).not.toThrow();
  });
});

describe("createLayer from a directory", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "layer-writer-"));
    await mkdir(join(dir, "sub/deeper"), { recursive: true });
    await writeFile(join(dir, "sub/deeper/f"), "content");
    await link(join(dir, "sub/deeper/f"), join(dir, "hl"));
    await symlink("sub/deeper/f", join(dir, "sym"));
    const big = Buffer.alloc(2 * 1024 * 1024, 1);
    await writeFile(join(dir, "big"), big);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("detects hardlinks and clamps mtimes so touching files keeps the digest", async () => {
    const first = createLayer({ dir }, { sourceDateEpoch: 1_000 });
    const tar1 = gunzipSync(await collect(first.stream));
    const r1 = await first.result;
    const h = await listTar(tar1);
    expect(h.map((e) => [e.name, e.type, e.linkname])).toEqual([
      ["big", "file", null],
      ["hl", "file", null],
      ["sub/", "directory", null],
      ["sub/deeper/", "directory", null],
      ["sub/deeper/f", "link", "hl"],
      ["sym", "symlink", "sub/deeper/f"],
    ]);
    const now = new Date();
    for (const p of ["big", "hl", "sub", "sub/deeper", "sub/deeper/f"]) await utimes(join(dir, p), now, now);
    const second = createLayer({ dir }, { sourceDateEpoch: 1_000 });
    await collect(second.stream);
    expect((await second.result).digest).toBe(r1.digest);
  });

  it("writeLayerTo writes a file atomically and reports the same digests", async () => {
    const out = join(dir, "..", `${dir.split("/").pop()}-layer.tgz`);
    try {
      const r = await writeLayerTo(out, { dir }, { sourceDateEpoch: 1_000 });
      const bytes = await readFile(out);
      expect(r.digest).toBe(digestOf(bytes));
      expect(r.diffId).toBe(digestOf(gunzipSync(bytes)));
    } finally {
      await rm(out, { force: true });
    }
  });

  it("stops with an AbortError when the signal fires", async () => {
    const ac = new AbortController();
    ac.abort();
    const l = createLayer({ dir }, { signal: ac.signal });
    await expect(collect(l.stream)).rejects.toMatchObject({ name: "AbortError" });
    await expect(l.result).rejects.toBeDefined();
  });

  it("fails clearly when a file's size differs from what its entry says", async () => {
    const l = createLayer({
      entries: [{ path: "f", type: "file", content: { file: join(dir, "hl") }, size: 3 }],
    });
    await expect(collect(l.stream)).rejects.toMatchObject({ code: "INVALID_TAR", where: "f" });
  });

  it("carries xattrs from the tree but not overlayfs internals", async () => {
    const x = await mkdtemp(join(tmpdir(), "layer-xattr-"));
    try {
      await writeFile(join(x, "f"), "f");
      await mkdir(join(x, "d"));
      execFileSync("setfattr", ["-n", "user.k", "-v", "0x000102ff", join(x, "f")]);
      execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(x, "d")]);
      const tar = gunzipSync(await collect(createLayer({ dir: x }).stream));
      const gnu = execFileSync("tar", ["--xattrs", "--xattrs-include=*", "-tvf", "-"], {
        input: tar,
      }).toString();
      expect(gnu).toContain("f");
      const h = await listTar(tar);
      expect(h.find((e) => e.name === "d/")!.pax).toBeNull();
      expect(h.find((e) => e.name === "f")!.pax).toHaveProperty(["SCHILY.xattr.user.k"]);
      // The PAX record holds the raw bytes.
      const rec = Buffer.from("SCHILY.xattr.user.k=\u0000\u0001\u0002\u00ff", "latin1");
      expect(tar.includes(rec)).toBe(true);
    } finally {
      await rm(x, { recursive: true, force: true });
    }
  });

  it("puts the tree under a prefix with an owner override", async () => {
    const l = createLayer({ dir, prefix: "app/x", chown: { uid: 0, gid: 0 } }, { compression: "none" });
    const h = await listTar(await collect(l.stream));
    expect(h.slice(0, 3).map((e) => e.name)).toEqual(["app/", "app/x/", "app/x/big"]);
    expect(h.find((e) => e.type === "link")!.linkname).toBe("app/x/hl");
    expect(h.every((e) => e.uid === 0 && e.gid === 0)).toBe(true);
  });
});
