import { type FileHandle, open } from "node:fs/promises";
import { OciError } from "../errors.js";

/** TarMember locates one regular file inside an uncompressed tar file. */
export interface TarMember {
  offset: number;
  size: number;
}

function cstring(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString("utf8", off, end < 0 || end > off + len ? off + len : end);
}

function parseNumber(b: Buffer, off: number, len: number, where: string): number {
  if ((b[off]! & 0x80) !== 0) {
    // base-256 (GNU): big-endian, high bit set.
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + b[i]!;
    n += (b[off]! & 0x3f) * 256 ** (len - 1);
    return n;
  }
  const s = cstring(b, off, len).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s))
    throw new OciError("INVALID_ARCHIVE", `bad octal number ${JSON.stringify(s)} in tar header`, { where });
  return Number.parseInt(s, 8);
}

function parsePax(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < buf.length) {
    const sp = buf.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = Number.parseInt(buf.toString("latin1", pos, sp), 10);
    if (!(len > 0) || pos + len > buf.length) break;
    const rec = buf.toString("utf8", sp + 1, pos + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** normalizeMemberName makes tar member names comparable ("./a//b" → "a/b"); names that climb with ".." or are absolute give undefined. */
export function normalizeMemberName(name: string): string | undefined {
  if (name.startsWith("/")) return undefined;
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) return undefined;
  return parts.join("/");
}

/** joinLinkTarget resolves a symlink's target against the link's directory; a target outside the archive gives undefined. */
function joinLinkTarget(name: string, linkname: string): string | undefined {
  if (linkname.startsWith("/")) return undefined;
  const parts = name.split("/").slice(0, -1);
  for (const p of linkname.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(p);
  }
  return parts.join("/");
}

/**
 * indexTar reads only the headers of an uncompressed tar file (seeking over
 * the data) and returns where each regular file's bytes are. PAX `path`/`size`
 * and GNU long names are honoured; unsafe names are left out, since nothing
 * may refer to them.
 */
export async function indexTar(path: string, fh?: FileHandle): Promise<Map<string, TarMember>> {
  const handle = fh ?? (await open(path, "r"));
  const members = new Map<string, TarMember>();
  const links = new Map<string, string | undefined>();
  try {
    const { size: fileSize } = await handle.stat();
    const hdr = Buffer.alloc(512);
    let pos = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    // A file that does not start with a tar header (text, an empty file) is not a tar archive at all,
    // which says more than a complaint about its missing end blocks or a header checksum.
    const notTar = (why: string) =>
      new OciError("INVALID_ARCHIVE", `not a tar archive (${why})`, { where: path });
    if (fileSize === 0) throw notTar("the file is empty");
    for (;;) {
      if (pos + 512 > fileSize) {
        if (pos === 0) throw notTar(`${fileSize} bytes, shorter than one tar header`);
        throw new OciError("INVALID_ARCHIVE", "tar ends without its end-of-archive blocks", { where: path });
      }
      await handle.read(hdr, 0, 512, pos);
      if (hdr.every((x) => x === 0)) break;
      const where = `${path}@${pos}`;
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : hdr[i]!;
      const recorded = (() => {
        try {
          return parseNumber(hdr, 148, 8, where);
        } catch (err) {
          if (pos === 0) throw notTar("it does not start with a tar header");
          throw err;
        }
      })();
      if (sum !== recorded) {
        if (pos === 0) throw notTar("it does not start with a tar header");
        throw new OciError("INVALID_ARCHIVE", "tar header checksum mismatch", { where });
      }
      const type = String.fromCharCode(hdr[156]!) || "0";
      let size = parseNumber(hdr, 124, 12, where);
      if (pax.size !== undefined) size = Number(pax.size);
      const dataStart = pos + 512;
      if (!Number.isSafeInteger(size) || size < 0 || dataStart + size > fileSize) {
        throw new OciError("INVALID_ARCHIVE", `tar entry claims ${size} bytes past the end of the file`, {
          where,
        });
      }
      const next = dataStart + size + ((512 - (size % 512)) % 512);
      if (type === "x" || type === "g" || type === "L") {
        if (size > 1024 * 1024)
          throw new OciError("INVALID_ARCHIVE", "tar extended header is too large", { where });
        const data = Buffer.alloc(size);
        await handle.read(data, 0, size, dataStart);
        if (type === "x") pax = { ...pax, ...parsePax(data) };
        if (type === "L") longName = cstring(data, 0, data.length);
        pos = next;
        continue;
      }
      const ustar = hdr.toString("latin1", 257, 262) === "ustar";
      const prefix = ustar ? cstring(hdr, 345, 155) : "";
      const raw =
        pax.path ?? longName ?? (prefix ? `${prefix}/${cstring(hdr, 0, 100)}` : cstring(hdr, 0, 100));
      const paxLink = pax.linkpath;
      pax = {};
      longName = undefined;
      if (type === "0" || type === "\u0000" || type === "7") {
        const name = normalizeMemberName(raw);
        if (name) members.set(name, { offset: dataStart, size });
      } else if (type === "2" || type === "1") {
        const name = normalizeMemberName(raw);
        const linkname = paxLink ?? cstring(hdr, 157, 100);
        if (name)
          links.set(name, type === "2" ? joinLinkTarget(name, linkname) : normalizeMemberName(linkname));
      }
      pos = next;
    }
  } finally {
    if (!fh) await handle.close();
  }
  // docker 20.10's `docker save` stores a layer that two images share once and symlinks the
  // other `<id>/layer.tar` to it: a link whose target is a member (within the archive) reads as that member.
  for (const name of links.keys()) {
    let target = links.get(name);
    for (let hops = 0; target !== undefined && !members.has(target) && hops < 8; hops++)
      target = links.get(target);
    const m = target === undefined ? undefined : members.get(target);
    if (m && !members.has(name)) members.set(name, m);
  }
  return members;
}
