import { readFile } from "node:fs/promises";
import type { Identity } from "../sandbox/idmap.js";
import { runInNamespace } from "../sandbox/namespace.js";

/** ScanEntry is one filesystem object as `find -printf` saw it from inside the sandbox's user namespace. */
export interface ScanEntry {
  /** path relative to the scanned root, "/"-separated. */
  path: string;
  /** type: find's %y letter (f d l c b p s). */
  type: string;
  mode: number;
  /** uid and gid as the step saw them (in-namespace ids when rootless). */
  uid: number;
  gid: number;
  /** mtimeNs is the modification time in nanoseconds. */
  mtimeNs: bigint;
  /** ctimeNs is the inode change time: any write, chmod or chown moves it. */
  ctimeNs: bigint;
  size: number;
  ino: number;
  nlink: number;
  linkname: string;
  xattrs: Record<string, Buffer>;
}

const FORMAT = "%y %m %U %G %T@ %s %i %n %C@\\0%P\\0%l\\0";

/** parseMtime turns find's %T@ ("1796313484.2019966270") into nanoseconds. */
export function parseMtime(s: string): bigint {
  const [sec = "0", frac = ""] = s.split(".");
  return BigInt(sec) * 1_000_000_000n + BigInt((frac + "000000000").slice(0, 9));
}

/**
 * scanTree lists everything under `root` (not the root itself) with one
 * `find` and one `getfattr` run as the namespace's root, so directories a
 * step made private to another user (apt's 0700 partial/) are read too and
 * owners come out as the step saw them. Paths are in find's order.
 */
/**
 * scanCommand is the sh command that writes scanTree's listing of `root` to
 * `out` (and `out`.xattr), for a helper that is in the namespace anyway (the
 * sandbox, right after the step) — saving a namespace per step.
 */
export function scanCommand(root: string, out: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return (
    `find ${q(root)} -mindepth 1 -printf ${q(FORMAT)} > ${q(out)} && ` +
    `{ getfattr -R -h -P -d -m - -e base64 --absolute-names -- ${q(root)} > ${q(`${out}.xattr`)} 2>/dev/null || true; }`
  );
}

/** readScan reads what scanCommand wrote; undefined when it is not there (the step never got that far). */
export async function readScan(root: string, out: string): Promise<ScanEntry[] | undefined> {
  try {
    const [listing, dump] = await Promise.all([readFile(out), readFile(`${out}.xattr`, "latin1")]);
    return parseListing(listing, parseGetfattr(dump, root));
  } catch {
    return undefined;
  }
}

export async function scanTree(identity: Identity, root: string, xattrs = true): Promise<ScanEntry[]> {
  // One process for both (rootless every namespace costs an unshare, a newuidmap and a newgidmap).
  // getfattr prints text without NULs, so the last three NULs are the separator (find's output may end in two).
  const script = xattrs
    ? `find "$1" -mindepth 1 -printf "$2" || exit 1; printf '\\0\\0\\0'; getfattr -R -h -P -d -m - -e base64 --absolute-names -- "$1" 2>/dev/null; exit 0`
    : `exec find "$1" -mindepth 1 -printf "$2"`;
  const r = await runInNamespace(identity, "sh", ["-c", script, "sh", root, FORMAT]);
  const cut = xattrs ? r.stdout.lastIndexOf("\0\0\0") : -1;
  const listing = cut < 0 ? r.stdout : r.stdout.subarray(0, cut);
  const attrs = cut < 0 ? new Map() : parseGetfattr(r.stdout.subarray(cut + 3).toString("latin1"), root);
  return parseListing(listing, attrs);
}

/** scanPaths stats the given absolute paths (not their contents) in the namespace; missing ones are left out. Paths come back absolute. */
export async function scanPaths(identity: Identity, paths: readonly string[]): Promise<ScanEntry[]> {
  if (paths.length === 0) return [];
  const r = await runInNamespace(
    identity,
    "find",
    [...paths, "-maxdepth", "0", "-printf", FORMAT.replace("%P", "%p")],
    {
      allowFailure: true,
    },
  );
  return parseListing(r.stdout, new Map());
}

function parseListing(stdout: Buffer, attrs: Map<string, Record<string, Buffer>>): ScanEntry[] {
  const fields = stdout.toString().split("\0");
  const out: ScanEntry[] = [];
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const [
      type = "",
      mode = "0",
      uid = "0",
      gid = "0",
      mtime = "0",
      size = "0",
      ino = "0",
      nlink = "1",
      ctime = "0",
    ] = fields[i]!.split(" ");
    const path = fields[i + 1]!;
    out.push({
      path,
      type,
      mode: Number.parseInt(mode, 8),
      uid: Number(uid),
      gid: Number(gid),
      mtimeNs: parseMtime(mtime),
      ctimeNs: parseMtime(ctime),
      size: Number(size),
      ino: Number(ino),
      nlink: Number(nlink),
      linkname: fields[i + 2]!,
      xattrs: attrs.get(path) ?? {},
    });
  }
  return out;
}

function unescapeOctal(s: string): string {
  // getfattr escapes special bytes as \ooo; the dump was decoded as latin1, so re-encode byte-wise.
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(s.charCodeAt(i));
  }
  return Buffer.from(bytes).toString();
}

/** parseGetfattr parses `getfattr -d -e base64 --absolute-names` output into path-under-root → name → value, overlay attributes included. */
export function parseGetfattr(text: string, root: string): Map<string, Record<string, Buffer>> {
  const out = new Map<string, Record<string, Buffer>>();
  let current: Record<string, Buffer> | undefined;
  const prefix = root.endsWith("/") ? root : `${root}/`;
  for (const line of text.split("\n")) {
    if (line.startsWith("# file: ")) {
      const abs = unescapeOctal(line.slice(8));
      current = {};
      out.set(abs.startsWith(prefix) ? abs.slice(prefix.length) : "", current);
    } else if (current && line.includes("=")) {
      const eq = line.indexOf("=");
      const v = line.slice(eq + 1);
      current[line.slice(0, eq)] = v.startsWith("0s")
        ? Buffer.from(v.slice(2), "base64")
        : v.startsWith("0x")
          ? Buffer.from(v.slice(2), "hex")
          : Buffer.from(v.replace(/^"|"$/g, ""), "latin1");
    }
  }
  return out;
}
