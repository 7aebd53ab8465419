import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyLayer } from "./apply.js";
import { comparePaths } from "./entry.js";
import { fsPath, pathFromBytes, pathToBytes } from "./path-bytes.js";
import { walkDirectory } from "./walk.js";
import { createLayer } from "./writer.js";

/** n writes a name's bytes as a latin1 string ("bad\xffname"), so tests can spell bytes that are not UTF-8. */
const n = (latin1: string): Buffer => Buffer.from(latin1, "latin1");
/** at joins a directory and names given as bytes into a Buffer path for fs calls. */
const at = (dir: string, ...names: string[]): Buffer =>
  Buffer.concat([Buffer.from(dir), ...names.flatMap((p) => [Buffer.from("/"), n(p)])]);
/** show prints bytes with \xNN escapes for everything outside printable ASCII, for readable diffs. */
const show = (b: Buffer): string =>
  [...b].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16)}`)).join("");

const LONG = `${"x".repeat(120)}\xff`;

/**
 * makeTree fills `dir` with names that are not UTF-8 in every role: a file, a
 * directory and a file in it, a symlink and its (dangling) target, a hardlink
 * and the file it links to, a fifo, a name past ustar's 100 bytes, and a
 * UTF-8 name (é) that must still sort byte-wise among them.
 */
function makeTree(dir: string): void {
  writeFileSync(at(dir, "bad\xffname"), "bad bytes\n");
  writeFileSync(at(dir, "a"), "plain\n");
  mkdirSync(at(dir, "dir\xfe"));
  writeFileSync(at(dir, "dir\xfe", "inner\x80"), "inner\n");
  writeFileSync(at(dir, "\xc3\xa9"), "utf-8 e-acute\n");
  symlinkSync(n("tgt\xfc"), at(dir, "ln\xfd"));
  linkSync(at(dir, "bad\xffname"), at(dir, "hl\xfb"));
  writeFileSync(at(dir, LONG), "long\n");
  execFileSync("mkfifo", [join(dir, "fifo-tmp")]);
  renameSync(join(dir, "fifo-tmp"), at(dir, "fifo\xfa"));
  // Process arguments are text, so the shell spells the bytes.
  execFileSync("sh", ["-c", `setfattr -n user.k -v v1 "$(printf 'bad\\377name')"`], { cwd: dir });
}

/** xattrOf reads user.k of `dir`/bad\xffname with getfattr (not our xattr code). */
function xattrOf(dir: string): string {
  return execFileSync("sh", ["-c", `getfattr --only-values -n user.k "$(printf 'bad\\377name')"`], {
    cwd: dir,
  }).toString();
}

/** snapshot lists a tree by raw name bytes: kind, file content or link target, for comparing two trees. */
function snapshot(dir: Buffer | string, prefix = ""): string[] {
  const out: string[] = [];
  const names = readdirSync(dir, { encoding: "buffer" }).sort(Buffer.compare);
  for (const name of names) {
    const p = Buffer.concat([Buffer.from(dir), Buffer.from("/"), name]);
    const rel = `${prefix}${show(name)}`;
    const st = lstatSync(p);
    if (st.isDirectory()) {
      out.push(`${rel}/`);
      out.push(...snapshot(p, `${rel}/`));
    } else if (st.isSymbolicLink()) out.push(`${rel} -> ${show(readlinkSync(p, { encoding: "buffer" }))}`);
    else if (st.isFIFO()) out.push(`${rel} fifo`);
    else out.push(`${rel} ${JSON.stringify(readFileSync(p, "utf8"))} links=${st.nlink}`);
  }
  return out;
}

async function layerTar(dir: string): Promise<Buffer> {
  const { stream, result } = createLayer({ dir }, { compression: "none" });
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  await result;
  return Buffer.concat(parts);
}

/** gnuList is GNU tar's listing of an archive, names printed as their raw bytes. */
function gnuList(tar: Buffer, verbose = false): Buffer[] {
  const out = execFileSync("tar", [verbose ? "-tvf" : "-tf", "-", "--quoting-style=literal"], { input: tar });
  return out
    .toString("latin1")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => Buffer.from(l, "latin1"));
}

let base: string;
let src: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "non-utf8-"));
  src = join(base, "src");
  mkdirSync(src);
  makeTree(src);
});
afterEach(() => rm(base, { recursive: true, force: true }));

describe("file names that are not UTF-8", () => {
  it("walkDirectory lists them with their bytes, in byte-wise order", async () => {
    const entries = await walkDirectory(src);
    expect(entries.map((e) => show(pathToBytes(e.path)))).toEqual(
      [
        "a",
        "bad\\xffname",
        "dir\\xfe",
        "dir\\xfe/inner\\x80",
        "fifo\\xfa",
        "hl\\xfb",
        "ln\\xfd",
        show(n(LONG)),
        "\\xc3\\xa9",
      ].map((s) => s),
    );
    const byPath = new Map(entries.map((e) => [show(pathToBytes(e.path)), e]));
    expect(show(pathToBytes(byPath.get("ln\\xfd")!.linkname!))).toBe("tgt\\xfc");
    expect(byPath.get("hl\\xfb")).toMatchObject({
      type: "hardlink",
      linkname: pathFromBytes(n("bad\xffname")),
    });
    expect(byPath.get("fifo\\xfa")?.type).toBe("fifo");
    expect(byPath.get("bad\\xffname")?.xattrs).toEqual({ "user.k": Buffer.from("v1") });
    // A caller opens an entry's file through fsPath.
    const file = byPath.get("bad\\xffname")!.content as { file: string };
    expect(readFileSync(fsPath(file.file), "utf8")).toBe("bad bytes\n");
    // The walk's order is comparePaths' order.
    const sorted = [...entries].sort((x, y) => comparePaths(x.path, y.path));
    expect(sorted.map((e) => e.path)).toEqual(entries.map((e) => e.path));
  });

  it("createLayer writes the same name bytes GNU tar -cf writes, and GNU tar reads them back", async () => {
    const ours = await layerTar(src);
    const gnu = execFileSync("tar", ["-C", src, "-cf", "-", "."]);
    const gnuNames = gnuList(gnu)
      .map((b) => b.subarray(2)) // "./name"
      .filter((b) => b.length > 0)
      .map((b) => (b[b.length - 1] === 0x2f ? b.subarray(0, -1) : b));
    const ourNames = gnuList(ours).map((b) => (b[b.length - 1] === 0x2f ? b.subarray(0, -1) : b));
    expect(ourNames.map(show).sort()).toEqual(gnuNames.map(show).sort());
    const verbose = gnuList(ours, true).map(show);
    expect(verbose.some((l) => l.endsWith(" ln\\xfd -> tgt\\xfc"))).toBe(true);
    expect(verbose.some((l) => l.endsWith(" hl\\xfb link to bad\\xffname"))).toBe(true);
    // GNU tar extracts our layer to the same tree.
    const out = join(base, "gnu-x");
    mkdirSync(out);
    execFileSync("tar", ["-C", out, "-xf", "-"], { input: ours });
    expect(snapshot(out)).toEqual(snapshot(src));
  });

  it("applyLayer round-trips them: our layer, and GNU tar's gnu and posix archives, give the same bytes on disk", async () => {
    const want = snapshot(src);
    expect(want).toContain('bad\\xffname "bad bytes\\n" links=2');
    // GNU tar keeps xattrs only in posix format with --xattrs.
    const archives: Array<[string, Buffer, boolean]> = [
      [
        "GNU tar, gnu format (raw ustar bytes, L long names)",
        execFileSync("tar", ["-C", src, "-cf", "-", "."]),
        false,
      ],
      [
        "GNU tar, posix format (PAX path)",
        execFileSync("tar", ["-C", src, "--format=posix", "--xattrs", "-cf", "-", "."]),
        true,
      ],
      ["tsbuild layer", await layerTar(src), true],
    ];
    for (const [i, [what, tar, xattrs]] of archives.entries()) {
      const target = join(base, `t-${i}`);
      await applyLayer(Readable.from([tar]), target);
      expect({ what, tree: snapshot(target) }).toEqual({ what, tree: want });
      if (xattrs) expect({ what, xattr: xattrOf(target) }).toEqual({ what, xattr: "v1" });
    }
  });

  it("applyLayer's whiteouts remove them, one by name and the rest under an opaque directory", async () => {
    const target = join(base, "target");
    await applyLayer(Readable.from([await layerTar(src)]), target);
    const { stream } = createLayer(
      {
        entries: [
          { path: pathFromBytes(n(".wh.bad\xffname")), type: "file" },
          { path: pathFromBytes(n("dir\xfe")), type: "dir" },
          { path: pathFromBytes(n("dir\xfe/.wh..wh..opq")), type: "file" },
          { path: pathFromBytes(n("dir\xfe/new\xf0")), type: "file", content: "new\n" },
        ],
      },
      { compression: "none" },
    );
    await applyLayer(stream, target);
    const tree = snapshot(target);
    expect(tree.filter((l) => l.startsWith("bad"))).toEqual([]);
    expect(tree.filter((l) => l.startsWith("dir"))).toEqual([
      "dir\\xfe/",
      'dir\\xfe/new\\xf0 "new\\n" links=1',
    ]);
  });

  it("the name codec is one to one on bytes and leaves UTF-8 unchanged", () => {
    expect(pathFromBytes(n("bad\xffname"))).toBe("bad\udcffname");
    expect(pathFromBytes(Buffer.from("héllo 日本"))).toBe("héllo 日本");
    // Bytes of a valid sequence around invalid ones: only the invalid bytes are escaped.
    expect(pathFromBytes(Buffer.from([0xc3, 0xa9, 0xc3, 0x41, 0xed, 0xa0, 0x80]))).toBe(
      "é\udcc3A\udced\udca0\udc80",
    );
    for (let i = 0; i < 2000; i++) {
      const b = randomBytes(1 + (i % 24));
      expect(pathToBytes(pathFromBytes(b))).toEqual(b);
    }
    expect(fsPath("plain")).toBe("plain");
    expect(fsPath(pathFromBytes(n("a\xff")))).toEqual(n("a\xff"));
  });
});
