import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmod,
  chown,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { digestOf } from "../../digest.js";
import { readTreeXattrs } from "../xattr.js";

/**
 * Shared by the layer tests and the end-to-end image round trip: a tree with
 * every kind of entry a layer must carry, and a snapshot that two trees must
 * agree on after packing and unpacking.
 */

export const isRoot = process.getuid?.() === 0;
export const LONG_DIR = `${"d".repeat(60)}/${"e".repeat(60)}`;
export const LONG_NAME = `${"n".repeat(150)}.txt`;
/** CAPABILITY is a file capability (cap_net_raw+ep): binary, and cleared by chown, so it must be set after ownership. */
export const CAPABILITY = Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/**
 * makeEveryKindTree fills `dir`: directories (sticky, private), files with
 * setuid/setgid/exec modes, an empty and a large file, a non-ASCII name, a
 * path past 100 bytes (PAX), a hardlink, relative/absolute/dangling/long
 * symlinks, a fifo, user and (root) security xattrs, and as root a char
 * device and files owned by 1234. With `mtime`, entries other than symlinks
 * and the long directories get that modification time (else: now).
 */
export async function makeEveryKindTree(dir: string, options: { mtime?: Date } = {}): Promise<void> {
  const f = (p: string) => join(dir, p);
  for (const d of ["bin", "private", "tmp", LONG_DIR]) await mkdir(f(d), { recursive: true });
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
    for (const p of ["owned", "private", "private/secret"]) await chown(f(p), 1234, 1234);
  }
  execFileSync("setfattr", ["-n", "user.note", "-v", "héllo", f("bin/tool")]);
  execFileSync("setfattr", ["-n", "user.dir", "-v", "d", f("bin")]);
  if (isRoot) {
    const cap = `0s${CAPABILITY.toString("base64")}`;
    execFileSync("setfattr", ["-n", "security.capability", "-v", cap, f("owned")]);
  }
  const t = options.mtime;
  if (t) {
    for (const p of ["bin/tool", "bin/suid", "owned", "fifo", "private/secret", "private", "bin", "tmp"])
      await utimes(f(p), t, t);
  }
}

/** TreeNode is what snapshotTree records of one entry. */
export interface TreeNode {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  target?: string;
  content?: string;
  rdev?: number;
  /** inodeGroup is the first path (in walk order) of a file's hardlink group. */
  inodeGroup?: string;
  xattrs?: Record<string, string>;
  mtime?: number;
}

/**
 * snapshotTree describes a tree (paths, types, modes, owners, symlink
 * targets, content digests, hardlink groups, xattrs; mtimes of non-symlinks
 * when asked), so two trees compare with one toEqual.
 */
export async function snapshotTree(
  root: string,
  options: { mtime?: boolean } = {},
): Promise<Record<string, TreeNode>> {
  const out: Record<string, TreeNode> = {};
  const inodes = new Map<number, string>();
  const xattrs = (await readTreeXattrs(root)) ?? new Map<string, Record<string, Buffer>>();
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const abs = join(root, p);
      const st = await lstat(abs);
      const node: TreeNode = {
        type: "other",
        mode: (st.mode & 0o7777).toString(8),
        uid: st.uid,
        gid: st.gid,
      };
      if (st.isDirectory()) node.type = "dir";
      else if (st.isSymbolicLink()) {
        node.type = "symlink";
        node.target = await readlink(abs);
        node.mode = "symlink";
      } else if (st.isFile()) {
        node.type = "file";
        node.content = digestOf(await readFile(abs));
        if (st.nlink > 1) {
          node.inodeGroup = inodes.get(st.ino) ?? p;
          inodes.set(st.ino, node.inodeGroup);
        }
      } else if (st.isFIFO()) node.type = "fifo";
      else if (st.isCharacterDevice()) {
        node.type = "char";
        node.rdev = st.rdev;
      }
      const x = xattrs.get(abs);
      if (x) node.xattrs = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.toString("base64")]));
      if (options.mtime && !st.isSymbolicLink()) node.mtime = Math.floor(st.mtimeMs / 1000);
      out[p] = node;
      if (st.isDirectory()) await walk(p);
    }
  }
  await walk("");
  return out;
}
