import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmod,
  chown,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { run } from "@tsbuild/cli";
import { digestOf } from "@tsbuild/oci";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * The end-to-end proof: a directory with every entry kind is
 * imported into the store, saved as a docker-archive (that is also an OCI
 * layout), read by independent tools (skopeo, umoci), and unpacked to the
 * same tree; imports are reproducible under SOURCE_DATE_EPOCH; load of what
 * save wrote gives the same ids.
 */

const isRoot = process.getuid?.() === 0;
const EPOCH = "1700000000";

async function tsbuild(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  const code = await run(args, { stdout, stderr, stdin: Readable.from([]), env: { ...process.env, ...env } });
  const r = { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  if (code !== 0) throw new Error(`tsbuild ${args.join(" ")} exited ${code}: ${r.stderr}`);
  return r;
}

function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const LONG_DIR = `${"d".repeat(60)}/${"e".repeat(60)}`;
const LONG_NAME = `${"n".repeat(150)}.txt`;

/** makeTree builds a directory holding every kind of entry a layer must carry. */
async function makeTree(dir: string): Promise<void> {
  const f = (p: string) => join(dir, p);
  await mkdir(f("bin"));
  await mkdir(f("private"));
  await mkdir(f("tmp"));
  await mkdir(f(LONG_DIR), { recursive: true });
  await writeFile(f("bin/tool"), "#!/bin/sh\necho tool\n");
  await writeFile(f("bin/suid"), "setuid binary stand-in\n");
  await writeFile(f("bin/sgid"), "setgid binary stand-in\n");
  await writeFile(f("private/secret"), "secret\n");
  await writeFile(f("empty"), "");
  await writeFile(f("big.bin"), randomBytes(300_000));
  await writeFile(f("héllo wörld 日本語.txt"), "non-ascii name\n");
  await writeFile(f(`${LONG_DIR}/${LONG_NAME}`), "long path\n");
  await writeFile(f("owned"), "owned by 1234\n");
  await link(f("bin/tool"), f("bin/tool-hardlink"));
  await symlink("bin/tool", f("rel-link"));
  await symlink("/etc/passwd", f("abs-link"));
  await symlink("does/not/exist", f("dangling-link"));
  await symlink(`${LONG_DIR}/${LONG_NAME}`, f("long-target-link"));
  execFileSync("mkfifo", [f("fifo")]);
  if (isRoot) execFileSync("mknod", [f("null-dev"), "c", "1", "3"]);
  await chmod(f("bin/tool"), 0o755);
  await chmod(f("bin/suid"), 0o4755);
  await chmod(f("bin/sgid"), 0o2755);
  await chmod(f("private"), 0o700);
  await chmod(f("private/secret"), 0o600);
  await chmod(f("tmp"), 0o1777);
  await chmod(f("fifo"), 0o640);
  if (isRoot) {
    await chown(f("owned"), 1234, 1234);
    await chown(f("private"), 1234, 1234);
    await chown(f("private/secret"), 1234, 1234);
  }
}

interface Node {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  target?: string;
  content?: string;
  rdev?: number;
  inodeGroup?: string;
}

/** snapshot describes a tree (paths, types, modes, owners, symlink targets, content digests, hardlink groups). */
async function snapshot(root: string): Promise<Record<string, Node>> {
  const out: Record<string, Node> = {};
  const inodes = new Map<number, string>();
  async function walk(rel: string): Promise<void> {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const p = rel ? `${rel}/${name}` : name;
      const abs = join(root, p);
      const st = await lstat(abs);
      const node: Node = { type: "", mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid };
      if (st.isDirectory()) node.type = "dir";
      else if (st.isSymbolicLink()) {
        node.type = "symlink";
        node.target = await readlink(abs);
        node.mode = "symlink";
      } else if (st.isFile()) {
        node.type = "file";
        node.content = digestOf(await readFile(abs));
        if (st.nlink > 1) {
          const first = inodes.get(st.ino);
          if (first === undefined) inodes.set(st.ino, p);
          node.inodeGroup = first ?? p;
        }
      } else if (st.isFIFO()) node.type = "fifo";
      else if (st.isCharacterDevice()) {
        node.type = "char";
        node.rdev = st.rdev;
      } else node.type = "other";
      out[p] = node;
      if (st.isDirectory()) await walk(p);
    }
  }
  await walk("");
  return out;
}

describe("image round trip: import → save → skopeo/umoci → same tree", () => {
  let work: string;
  let tree: string;
  let root: string;
  let id: string;
  let archive: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "tsbuild-roundtrip-"));
    tree = join(work, "tree");
    root = join(work, "store");
    await mkdir(tree);
    await makeTree(tree);
    id = (
      await tsbuild(["--root", root, "image", "import", tree, "roundtrip:1"], { SOURCE_DATE_EPOCH: EPOCH })
    ).stdout.trim();
    archive = join(work, "image.tar");
    await tsbuild(["--root", root, "image", "save", "-o", archive, "roundtrip:1"]);
  });

  it("the tree has what the test claims (guards the guard)", async () => {
    const s = await snapshot(tree);
    const types = new Set(Object.values(s).map((n) => n.type));
    expect([...types].sort()).toEqual(
      isRoot ? ["char", "dir", "fifo", "file", "symlink"] : ["dir", "fifo", "file", "symlink"],
    );
    expect(s["bin/suid"]?.mode).toBe("4755");
    expect(s.tmp?.mode).toBe("1777");
    expect(s["bin/tool-hardlink"]?.inodeGroup).toBe("bin/tool");
    expect(Object.keys(s).some((p) => Buffer.byteLength(p) > 100)).toBe(true);
    if (isRoot) expect(s.owned).toMatchObject({ uid: 1234, gid: 1234 });
  });

  it("skopeo reads the save output as docker-archive and as oci-archive", () => {
    for (const transport of ["docker-archive", "oci-archive"]) {
      const info = JSON.parse(tool("skopeo", ["inspect", `${transport}:${archive}`]));
      expect(info.Layers, transport).toHaveLength(1);
      expect(info.Os, transport).toBe("linux");
      expect(info.Created, transport).toBe("2023-11-14T22:13:20Z");
      const config = JSON.parse(tool("skopeo", ["inspect", "--config", `${transport}:${archive}`]));
      expect(config.rootfs.diff_ids).toHaveLength(1);
      expect(digestOf(tool("skopeo", ["inspect", "--config", "--raw", `${transport}:${archive}`]))).toBe(id);
    }
  });

  it.runIf(isRoot)("skopeo copy to an OCI layout, then umoci unpack, gives the same tree", async () => {
    const layout = join(work, "layout");
    const bundle = join(work, "bundle");
    tool("skopeo", ["copy", `oci-archive:${archive}`, `oci:${layout}:tag`]);
    tool("umoci", ["unpack", "--image", `${layout}:tag`, bundle]);
    const want = await snapshot(tree);
    const got = await snapshot(join(bundle, "rootfs"));
    expect(got).toEqual(want);
  });

  it("two imports of the same tree give the same id after touching everything (SOURCE_DATE_EPOCH)", async () => {
    execFileSync("find", [tree, "-exec", "touch", "-h", "{}", "+"]);
    const again = (
      await tsbuild(["--root", root, "image", "import", tree, "roundtrip:2"], { SOURCE_DATE_EPOCH: EPOCH })
    ).stdout.trim();
    expect(again).toBe(id);
    const other = join(work, "store2");
    const fresh = (
      await tsbuild(["--root", other, "import", tree], { SOURCE_DATE_EPOCH: EPOCH })
    ).stdout.trim();
    expect(fresh).toBe(id);
  });

  it("image load of what save wrote gives the same ids and names", async () => {
    const other = join(work, "store-load");
    const loaded = await tsbuild(["--root", other, "image", "load", "-i", archive]);
    expect(loaded.stdout).toBe("Loaded image: roundtrip:1\n");
    const before = await tsbuild([
      "--root",
      root,
      "images",
      "--no-trunc",
      "--format",
      "{{.ID}} {{.Repository}}:{{.Tag}}",
      "roundtrip:1",
    ]);
    const after = await tsbuild([
      "--root",
      other,
      "images",
      "--no-trunc",
      "--format",
      "{{.ID}} {{.Repository}}:{{.Tag}}",
    ]);
    expect(after.stdout).toBe(before.stdout);
    expect(after.stdout).toBe(`${id} roundtrip:1\n`);
  });
});
