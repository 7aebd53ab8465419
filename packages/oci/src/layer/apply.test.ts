import { execFileSync } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import * as zlib from "node:zlib";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digestOf } from "../digest.js";
import { CAPABILITY, isRoot, makeEveryKindTree, snapshotTree } from "./__fixtures__/tree.js";
import { applyLayer } from "./apply.js";
import { readLayerEntries } from "./reader.js";
import { encodeTarHeader } from "./tar-header.js";
import { createLayer } from "./writer.js";

type PackEntry = Parameters<ReturnType<typeof pack>["entry"]>[0] & { body?: string };

async function tarOf(entries: PackEntry[]): Promise<Buffer> {
  const p = pack();
  for (const { body, ...h } of entries) {
    await new Promise<void>((res, rej) => {
      p.entry({ mtime: new Date(0), ...h }, body ?? "", (err) => (err ? rej(err) : res()));
    });
  }
  p.finalize();
  const parts: Buffer[] = [];
  for await (const c of p) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

let base: string;
let target: string;
let sentinel: string;

async function sentinelState(): Promise<string> {
  const names = (await readdir(sentinel)).sort();
  return `${names.join(",")}|${await readFile(join(sentinel, "file"), "utf8")}`;
}

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "apply-layer-"));
  target = join(base, "target");
  sentinel = join(base, "sentinel");
  await mkdir(target);
  await mkdir(sentinel);
  await writeFile(join(sentinel, "file"), "safe");
});
afterEach(() => rm(base, { recursive: true, force: true }));

describe("applyLayer against hostile tars", () => {
  const cases: Array<{
    name: string;
    entries: () => PackEntry[];
    raw?: () => Buffer;
    opts?: Parameters<typeof applyLayer>[2];
    error?: string;
    check?: () => Promise<void>;
  }> = [
    {
      name: "relative .. escape",
      entries: () => [{ name: "../sentinel/evil", body: "x" }],
      error: "UNSAFE_TAR_ENTRY",
    },
    {
      name: "nested .. escape",
      entries: () => [{ name: "a/../../sentinel/evil", body: "x" }],
      error: "UNSAFE_TAR_ENTRY",
    },
    {
      name: "absolute path is neutralised",
      entries: () => [{ name: `${sentinel}/evil`, body: "x" }],
      check: async () => expect(await readFile(join(target, sentinel, "evil"), "utf8")).toBe("x"),
    },
    {
      name: "write through a relative symlink that points above the root",
      entries: () => [
        { name: "link", type: "symlink", linkname: "../sentinel" },
        { name: "link/evil", body: "x" },
      ],
      check: async () => expect(await readFile(join(target, "sentinel/evil"), "utf8")).toBe("x"),
    },
    {
      name: "write through an absolute symlink",
      entries: () => [
        { name: "abs", type: "symlink", linkname: sentinel },
        { name: "abs/evil", body: "x" },
      ],
      check: async () => expect(await readFile(join(target, sentinel, "evil"), "utf8")).toBe("x"),
    },
    {
      name: "file replacing a symlink to an outside file does not follow it",
      entries: () => [
        { name: "s", type: "symlink", linkname: join(sentinel, "file") },
        { name: "s", body: "overwritten" },
      ],
      check: async () => expect(await readFile(join(target, "s"), "utf8")).toBe("overwritten"),
    },
    {
      name: "hardlink to a file outside",
      entries: () => [{ name: "h", type: "link", linkname: "../sentinel/file" }],
      error: "UNSAFE_TAR_ENTRY",
    },
    {
      name: "hardlink with an absolute outside target is resolved inside (and missing)",
      entries: () => [{ name: "h", type: "link", linkname: join(sentinel, "file") }],
      error: "INVALID_TAR",
    },
    {
      name: "hardlink through a symlink to outside",
      entries: () => [
        { name: "d", type: "symlink", linkname: sentinel },
        { name: "h", type: "link", linkname: "d/file" },
      ],
      error: "INVALID_TAR",
    },
    {
      name: "hardlink to a missing file",
      entries: () => [{ name: "h", type: "link", linkname: "nope" }],
      error: "INVALID_TAR",
    },
    {
      name: "device node with devices: error",
      entries: () => [{ name: "null", type: "character-device", devmajor: 1, devminor: 3 }],
      opts: { devices: "error" },
      error: "UNSAFE_TAR_ENTRY",
    },
    {
      name: "device node skipped when not allowed",
      entries: () => [{ name: "null", type: "character-device", devmajor: 1, devminor: 3 }],
      opts: { devices: "skip" },
      check: async () => expect(await readdir(target)).toEqual([]),
    },
    {
      name: "size over the limit",
      entries: () => [{ name: "big", body: "x".repeat(2000) }],
      opts: { maxEntrySize: 1000 },
      error: "INVALID_TAR",
    },
    {
      name: "header claims more data than there is",
      entries: () => [],
      raw: () =>
        Buffer.concat([
          encodeTarHeader({
            name: "short",
            type: "file",
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 1_000_000,
            mtime: 0,
          }),
          Buffer.alloc(512, 0x61),
        ]),
      error: "INVALID_TAR",
    },
    {
      name: "component longer than NAME_MAX",
      entries: () => [{ name: `${"n".repeat(300)}`, body: "x" }],
      error: "UNSAFE_TAR_ENTRY",
    },
    { name: "whiteout of '..'", entries: () => [{ name: "a/.wh...", body: "" }], error: "UNSAFE_TAR_ENTRY" },
    {
      name: "duplicate entries: the last one wins",
      entries: () => [
        { name: "dup", body: "one" },
        { name: "dup", body: "two" },
        { name: "x", type: "directory", mode: 0o555 },
        { name: "x", body: "now a file", mode: 0o640 },
        { name: "ro", type: "directory", mode: 0o555 },
        { name: "ro/child", body: "c" },
      ],
      check: async () => {
        expect(await readFile(join(target, "dup"), "utf8")).toBe("two");
        expect(await readFile(join(target, "x"), "utf8")).toBe("now a file");
        expect((await lstat(join(target, "x"))).mode & 0o7777).toBe(0o640);
        expect((await lstat(join(target, "ro"))).mode & 0o7777).toBe(0o555);
      },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const before = await sentinelState();
      const tar = c.raw ? c.raw() : await tarOf(c.entries());
      const run = applyLayer(Readable.from([gzipSync(tar)]), target, c.opts);
      if (c.error) await expect(run).rejects.toMatchObject({ code: c.error });
      else await run;
      if (c.check) await c.check();
      expect(await sentinelState()).toBe(before);
    });
  }
});

describe("applyLayer compression sniffing", () => {
  it("reads plain and gzip tars, and says clearly when zstd is not supported", async () => {
    const tar = await tarOf([{ name: "f", body: "plain" }]);
    await applyLayer(Readable.from([tar]), target);
    expect(await readFile(join(target, "f"), "utf8")).toBe("plain");
    const zstdMagic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    const hasZstd = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === "function";
    await expect(applyLayer(Readable.from([zstdMagic]), target)).rejects.toMatchObject({
      code: hasZstd ? "INVALID_TAR" : "UNSUPPORTED_MEDIA_TYPE",
    });
  });
});

describe("applyLayer when not root", () => {
  it("writes into a lower layer's read-only directory, restores its mode, skips devices", async () => {
    const nobody = 65534;
    await mkdir(join(target, "ro"));
    await writeFile(join(target, "ro/old"), "lower");
    execFileSync("chown", ["-R", `${nobody}:${nobody}`, target]);
    await chmod(join(target, "ro"), 0o555);
    await chmod(base, 0o755); // mkdtemp makes it 0700: nobody must be able to reach the target
    const tar = await tarOf([
      { name: "ro/new", body: "upper", uid: 0, gid: 0 },
      { name: "ro/sub/deep", body: "d" },
      { name: "null", type: "character-device", devmajor: 1, devminor: 3 },
    ]);
    const asRoot = process.geteuid?.() === 0;
    if (asRoot) {
      process.setegid?.(nobody);
      process.seteuid?.(nobody);
    }
    let r: Awaited<ReturnType<typeof applyLayer>>;
    try {
      r = await applyLayer(Readable.from([tar]), target);
    } finally {
      if (asRoot) {
        process.seteuid?.(0);
        process.setegid?.(0);
      }
    }
    expect(r.skipped).toEqual(["null"]);
    expect(await readFile(join(target, "ro/new"), "utf8")).toBe("upper");
    expect(await readFile(join(target, "ro/sub/deep"), "utf8")).toBe("d");
    expect((await lstat(join(target, "ro"))).mode & 0o7777).toBe(0o555);
    if (asRoot) expect((await lstat(join(target, "ro/new"))).uid).toBe(nobody);
  });
});

describe("applyLayer whiteouts", () => {
  for (const order of ["opaque first", "opaque last"]) {
    it(`applies .wh. and opaque whiteouts (${order})`, async () => {
      await mkdir(join(target, "a/sub"), { recursive: true });
      await writeFile(join(target, "a/old"), "lower");
      await writeFile(join(target, "a/sub/deep"), "lower");
      await mkdir(join(target, "b"));
      await writeFile(join(target, "b/z"), "lower");
      await writeFile(join(target, "keep"), "lower");
      const entries: PackEntry[] = [
        { name: "a/new", body: "upper" },
        { name: "a/.wh..wh..opq", body: "" },
        { name: ".wh.b", body: "" },
        { name: ".wh.missing", body: "" },
      ];
      if (order === "opaque first") entries.reverse();
      const r = await applyLayer(Readable.from([await tarOf(entries)]), target);
      expect(r.whiteouts).toBe(3);
      expect((await readdir(target)).sort()).toEqual(["a", "keep"]);
      expect(await readdir(join(target, "a"))).toEqual(["new"]);
    });
  }
});

describe("applyLayer whiteouts and caching", () => {
  it("a whited-out symlinked directory no longer redirects later entries", async () => {
    await mkdir(join(target, "real"));
    await symlink("real", join(target, "link"));
    await writeFile(join(target, "plain"), "x");
    const tar = await tarOf([
      { name: "link/before", body: "through the link" },
      { name: ".wh.link", body: "" },
      { name: ".wh.plain", body: "" },
      { name: "link/after", body: "own dir" },
    ]);
    await applyLayer(Readable.from([tar]), target);
    expect(await readFile(join(target, "real/before"), "utf8")).toBe("through the link");
    expect((await lstat(join(target, "link"))).isDirectory()).toBe(true);
    expect(await readdir(join(target, "link"))).toEqual(["after"]);
    expect((await readdir(target)).sort()).toEqual(["link", "real"]);
  });
});

describe("layer round trip", () => {
  it("writer → applier reproduces the tree", async () => {
    const src = join(base, "src");
    await mkdir(src);
    await makeEveryKindTree(src, { mtime: new Date(1_600_000_000_000) });
    const layer = createLayer({ dir: src });
    const [, applied] = await Promise.all([layer.result, applyLayer(layer.stream, join(base, "out"))]);
    expect(applied.skipped).toEqual([]);
    const want = await snapshotTree(src, { mtime: true });
    expect(await snapshotTree(join(base, "out"), { mtime: true })).toEqual(want);
    // The tree holds what this test claims to carry.
    expect(want["bin/tool-hardlink"]?.inodeGroup).toBe("bin/tool");
    expect(want["bin/tool"]?.xattrs).toEqual({ "user.note": Buffer.from("héllo").toString("base64") });
    if (isRoot) expect(want.owned?.xattrs).toEqual({ "security.capability": CAPABILITY.toString("base64") });
  });

  it("keeps raw xattr bytes with the right entry across PAX, zero blocks and data-carrying links", async () => {
    const h = (f: Partial<Parameters<typeof encodeTarHeader>[0]>) =>
      encodeTarHeader({ name: "x", type: "file", mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, ...f });
    const long = "l".repeat(200);
    const tar = Buffer.concat([
      h({ name: long, size: 5 }),
      Buffer.from("hello"),
      Buffer.alloc(507),
      h({ name: "d/", type: "dir", xattrs: { "user.d": Buffer.from([0x80]) } }),
      Buffer.alloc(512), // a stray zero block between entries
      h({ name: "f", xattrs: { "security.capability": Buffer.from([1, 0, 0, 2, 0xff]) } }),
      Buffer.alloc(1024),
    ]);
    const list = await readLayerEntries(Readable.from([tar]));
    expect(list.map((e) => [e.name, e.xattrs])).toEqual([
      [long, {}],
      ["d/", { "user.d": Buffer.from([0x80]) }],
      ["f", { "security.capability": Buffer.from([1, 0, 0, 2, 0xff]) }],
    ]);
  });

  it("readLayerEntries lists what the writer wrote", async () => {
    const l = createLayer({
      entries: [
        { path: "x", type: "file", content: "abc", uid: 3_000_000, mtime: 9_000_000_000 },
        { path: "d", type: "dir", xattrs: { "user.a": "b", "user.bin": Buffer.from([0xff, 0, 0xc3]) } },
      ],
    });
    const list = await readLayerEntries(l.stream);
    expect(list.map((e) => [e.name, e.type, e.uid, e.mtime, e.digest])).toEqual([
      ["d/", "dir", 0, 0, undefined],
      ["x", "file", 3_000_000, 9_000_000_000, digestOf("abc")],
    ]);
    expect(list[0]!.xattrs).toEqual({ "user.a": Buffer.from("b"), "user.bin": Buffer.from([0xff, 0, 0xc3]) });
  });
});
