import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { type LayerEntry, tarEntries } from "@tsbuild/oci";
import { BuildError } from "../errors.js";
import type { ArchiveContent } from "./copy.js";
import { cleanRel } from "./fsview.js";
import type { ContextFs, SourceNode } from "./sources.js";

type Compression = "gzip" | "bzip2" | "xz" | "none";

async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function compressionOf(b: Buffer): Compression {
  if (b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b.subarray(0, 3).toString("latin1") === "BZh") return "bzip2";
  if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
  return "none";
}

function isTarHeader(b: Buffer): boolean {
  if (b.length < 512) return false;
  const magic = b.subarray(257, 262).toString("latin1");
  if (magic === "ustar") return true;
  // A v7 tar has no magic: accept a header whose checksum adds up.
  const stored = Number.parseInt(b.subarray(148, 156).toString("latin1").replace(/\0.*$/s, "").trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i]!;
  return sum === stored;
}

/** decompress streams a file through gzip (zlib) or the bzip2/xz tools. */
function decompress(path: string, c: Compression): Readable {
  if (c === "none") return createReadStream(path);
  if (c === "gzip") return createReadStream(path).pipe(createGunzip());
  const child = spawn(c === "bzip2" ? "bzip2" : "xz", ["-dc", path], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const out = child.stdout;
  child.on("error", (e) =>
    out.destroy(new Error(`cannot run ${c === "bzip2" ? "bzip2" : "xz"}: ${e.message}`)),
  );
  child.on("close", (code) => {
    if (code !== 0) out.destroy(new Error(`${c} -dc failed: ${err.trim() || `exit ${code}`}`));
  });
  return out;
}

async function firstBlock(path: string, c: Compression): Promise<Buffer> {
  const s = decompress(path, c);
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of s) {
      chunks.push(chunk as Buffer);
      n += (chunk as Buffer).length;
      if (n >= 512) break;
    }
  } catch {
    return Buffer.alloc(0);
  } finally {
    s.destroy();
  }
  return Buffer.concat(chunks);
}

/**
 * unpackLocalArchive is ADD's archive rule: a local tar (plain, gzip, bzip2 or xz) is extracted into the
 * destination; anything else is copied as a file (undefined). Entries keep the archive's owners, modes and
 * times; contents go to a temp dir that `cleanup` removes.
 */
export async function unpackLocalArchive(
  fs: ContextFs,
  path: string,
  temps: string[],
  signal?: AbortSignal,
): Promise<ArchiveContent | undefined> {
  const file = fs.abs(path);
  const c = compressionOf(await head(file, 6));
  if (!isTarHeader(await firstBlock(file, c))) return undefined;
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-add-"));
  temps.push(dir);
  const entries: LayerEntry[] = [];
  let i = 0;
  try {
    for await (const { info, body } of tarEntries(decompress(file, c), signal ? { signal } : {})) {
      if (!info.type) continue;
      const p = cleanRel(info.name);
      if (p === "") continue;
      const e: LayerEntry = {
        path: p,
        type: info.type,
        mode: info.mode,
        uid: info.uid,
        gid: info.gid,
        mtime: info.mtime,
      };
      if (info.linkname !== undefined) e.linkname = info.linkname;
      if (info.type === "char" || info.type === "block") {
        e.devmajor = info.devmajor;
        e.devminor = info.devminor;
      }
      if (info.type === "file") {
        const out = join(dir, String(i++));
        await pipeline(body, createWriteStream(out));
        e.content = { file: out };
        e.size = info.size;
      }
      entries.push(e);
    }
  } catch (err) {
    throw new BuildError("SOURCE_NOT_FOUND", `cannot extract ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { entries };
}

/** Downloaded is an ADD URL fetched to a temp file. */
export interface Downloaded {
  name: string;
  node: SourceNode;
  file: string;
  digest: string;
}

/**
 * download fetches an ADD URL as BuildKit does: the file is named after the URL's last path segment, gets
 * mode 0600 and the `Last-Modified` time; `--checksum` is verified before anything uses it.
 */
export async function download(
  url: string,
  checksum: string | undefined,
  temps: string[],
  signal?: AbortSignal,
  onBytes?: (current: number, total?: number) => void,
): Promise<Downloaded> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow", ...(signal ? { signal } : {}) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new BuildError("DOWNLOAD_FAILED", `failed to load ${url}: ${cause}`, { cause: err });
  }
  if (!res.ok || !res.body) {
    throw new BuildError("DOWNLOAD_FAILED", `invalid response status ${res.status} for ${url}`);
  }
  const dir = await mkdtemp(join(tmpdir(), "tsbuild-url-"));
  temps.push(dir);
  const file = join(dir, "download");
  const hash = createHash("sha256");
  let size = 0;
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  const total = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
  body.on("data", (c: Buffer) => {
    hash.update(c);
    size += c.length;
    onBytes?.(size, total);
  });
  await pipeline(body, createWriteStream(file, { mode: 0o600 }));
  const digest = `sha256:${hash.digest("hex")}`;
  if (checksum !== undefined && checksum !== digest) {
    throw new BuildError(
      "CHECKSUM_MISMATCH",
      `digest mismatch for ${url}: expected ${checksum}, got ${digest}`,
    );
  }
  const lm = res.headers.get("last-modified");
  const t = lm ? Date.parse(lm) : Number.NaN;
  const mtime = Number.isFinite(t) ? Math.floor(t / 1000) : 0;
  await utimes(file, mtime, mtime).catch(() => {});
  let name = basename(new URL(url).pathname);
  if (name === "" || name === "/") name = "__unnamed__";
  return { name, node: { type: "file", mode: 0o600, uid: 0, gid: 0, size, mtime }, file, digest };
}

/** removeTemps removes the temp dirs a step made. */
export async function removeTemps(temps: string[]): Promise<void> {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}
