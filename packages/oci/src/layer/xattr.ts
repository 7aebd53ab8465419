import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathFromBytes, pathToBytes } from "./path-bytes.js";

/**
 * xattr reads and writes extended attributes through the `attr` package's
 * getfattr/setfattr, one process per tree (Node has no xattr API). Both
 * speak the same dump format: `# file: PATH` (octal-escaped) then
 * `name=0sBASE64` lines. Without the tools, xattrs are skipped and callers
 * say so.
 */

/** SKIPPED_XATTR lists attributes that describe the host, not the image: overlayfs internals and SELinux labels. */
export function isHostXattr(name: string): boolean {
  return (
    name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.") || name === "security.selinux"
  );
}

/** unescapeName turns a dump's file name (bytes as latin1 text) back into a path, escaping non-UTF-8 bytes as path-bytes.ts does. */
function unescapeName(s: string): string {
  // getfattr escapes "\", newline and some control bytes as \ooo octal; other bytes are written raw.
  const bytes: number[] = [];
  const raw = Buffer.from(s, "latin1");
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.toString("latin1", i + 1, i + 4))) {
      bytes.push(Number.parseInt(raw.toString("latin1", i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(raw[i]!);
  }
  return pathFromBytes(Buffer.from(bytes));
}

function escapeName(p: string): string {
  let out = "";
  for (const b of pathToBytes(p)) {
    out +=
      b <= 0x20 || b === 0x5c || b >= 0x7f ? `\\${b.toString(8).padStart(3, "0")}` : String.fromCharCode(b);
  }
  return out;
}

/**
 * parseXattrDump parses getfattr `-e base64` output into absolute path → name
 * → value. Give it the raw bytes: getfattr writes file names as they are on
 * disk, which need not be UTF-8.
 */
export function parseXattrDump(dump: Buffer | string): Map<string, Record<string, Buffer>> {
  // latin1 keeps one char per byte, so names can be decoded exactly afterwards.
  const text = (typeof dump === "string" ? Buffer.from(dump) : dump).toString("latin1");
  const out = new Map<string, Record<string, Buffer>>();
  let current: Record<string, Buffer> | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("# file: ")) {
      current = {};
      out.set(unescapeName(line.slice(8)), current);
    } else if (current && line.includes("=")) {
      const eq = line.indexOf("=");
      const name = Buffer.from(line.slice(0, eq), "latin1").toString();
      const v = line.slice(eq + 1);
      if (isHostXattr(name)) continue;
      current[name] = v.startsWith("0s")
        ? Buffer.from(v.slice(2), "base64")
        : v.startsWith("0x")
          ? Buffer.from(v.slice(2), "hex")
          : Buffer.from(v.replace(/^"|"$/g, ""), "latin1");
    }
  }
  for (const [k, v] of out) if (Object.keys(v).length === 0) out.delete(k);
  return out;
}

/** readTreeXattrs returns the extended attributes of every entry under `dir` (symlinks not followed), or undefined without getfattr. */
export function readTreeXattrs(dir: string): Promise<Map<string, Record<string, Buffer>> | undefined> {
  return new Promise((resolve) => {
    const p = spawn(
      "getfattr",
      ["-h", "-P", "-R", "-d", "-m", "-", "-e", "base64", "--absolute-names", "--", dir],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    const chunks: Buffer[] = [];
    p.stdout.on("data", (c: Buffer) => chunks.push(c));
    p.on("error", () => resolve(undefined));
    // getfattr exits 1 when some file could not be read; what it printed is still right.
    p.on("close", () => resolve(parseXattrDump(Buffer.concat(chunks))));
  });
}

/** writeXattrs sets attributes on paths (symlinks themselves, not their targets) with one setfattr run; resolves to an error message or undefined. */
export async function writeXattrs(
  items: Array<{ path: string; xattrs: Record<string, Buffer> }>,
): Promise<string | undefined> {
  if (items.length === 0) return undefined;
  let dump = "";
  for (const it of items) {
    dump += `# file: ${escapeName(it.path)}\n`;
    for (const [k, v] of Object.entries(it.xattrs)) dump += `${k}=0s${v.toString("base64")}\n`;
    dump += "\n";
  }
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-xattr-"));
  try {
    const file = join(dir, "dump");
    await writeFile(file, dump);
    return await new Promise((resolve) => {
      execFile("setfattr", ["-h", `--restore=${file}`], (err, _out, stderr) => {
        resolve(err ? (stderr.trim() || err.message).split("\n")[0] : undefined);
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
