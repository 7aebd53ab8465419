import { pathToBytes } from "./path-bytes.js";

/**
 * tar-header encodes ustar headers (with PAX extended headers when a field does
 * not fit) byte-for-byte deterministically. We write our own encoder instead of
 * tar-stream's pack so that every byte is under our control (no uname/gname, no
 * atime/ctime, fixed PAX header names) and so that packing 20,000 small files
 * costs no stream machinery per entry.
 */

/** TarType is the ustar typeflag of an entry. */
export const TarType = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
} as const;

export type TarEntryType = keyof typeof TarType;

/** TarHeaderFields is what encodeTarHeader needs for one entry. */
export interface TarHeaderFields {
  /**
   * name is the entry path as it goes into the tar (directories end in "/").
   * Bytes that are not UTF-8 are escaped as path-bytes.ts describes and are
   * written back as the original bytes, in a PAX `path` record (as GNU tar
   * and Go's archive/tar do; neither adds `hdrcharset`).
   */
  name: string;
  type: TarEntryType;
  /** mode is the permission bits including setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** mtime is in whole seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** xattrs go into PAX `SCHILY.xattr.<name>` records. */
  xattrs?: Record<string, string | Uint8Array>;
}

const BLOCK = 512;
const MAX_OCTAL_8 = 0o7777777; // 7 digits in an 8-byte field
const MAX_OCTAL_12 = 0o77777777777; // 11 digits in a 12-byte field

/** tarPadding returns how many zero bytes follow `size` bytes of content. */
export function tarPadding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/** TAR_TRAILER is the two zero blocks that end an archive. */
export const TAR_TRAILER: Buffer = Buffer.alloc(2 * BLOCK);

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7e || s.charCodeAt(i) < 0x20) return false;
  return true;
}

function writeOctal(buf: Buffer, off: number, width: number, value: number): void {
  const s = Math.trunc(value)
    .toString(8)
    .padStart(width - 1, "0");
  buf.write(s, off, width - 1, "latin1");
  buf[off + width - 1] = 0;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.byteLength(key) + value.length + 3; // " " "=" "\n"
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from("\n")]);
}

/** splitUstarName splits an ASCII path into ustar prefix (≤155) and name (≤100), or returns undefined. */
function splitUstarName(name: string): [string, string] | undefined {
  if (name.length <= 100) return ["", name];
  if (name.length > 256) return undefined;
  // Choose the first "/" that leaves the name part ≤100 and the prefix ≤155.
  for (let i = name.length - 101; i < name.length; i++) {
    if (i < 1) continue;
    if (name[i] === "/" && i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
      return [name.slice(0, i), name.slice(i + 1)];
    }
  }
  return undefined;
}

function rawHeader(f: {
  name: string;
  prefix: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, 0, 100, "utf8");
  writeOctal(b, 100, 8, f.mode);
  writeOctal(b, 108, 8, f.uid);
  writeOctal(b, 116, 8, f.gid);
  writeOctal(b, 124, 12, f.size);
  writeOctal(b, 136, 12, f.mtime);
  b.write(f.typeflag, 156, 1, "latin1");
  b.write(f.linkname, 157, 100, "utf8");
  b.write("ustar\u000000", 257, 8, "latin1");
  // uname (265) and gname (297) stay empty: ownership is numeric only.
  if (f.typeflag === TarType.char || f.typeflag === TarType.block) {
    writeOctal(b, 329, 8, f.devmajor);
    writeOctal(b, 337, 8, f.devminor);
  }
  b.write(f.prefix, 345, 155, "utf8");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
  return b;
}

/**
 * encodeTarHeader returns the header block(s) for one entry: a PAX `x` header
 * plus its records when a name is long or non-ASCII, a number too large, or
 * xattrs are present, then the ustar header.
 */
export function encodeTarHeader(h: TarHeaderFields): Buffer {
  const pax: Buffer[] = [];
  let name = h.name;
  let prefix = "";
  const split = isAscii(h.name) ? splitUstarName(h.name) : undefined;
  if (split) {
    [prefix, name] = split;
  } else {
    pax.push(paxRecord("path", pathToBytes(h.name)));
    name = asciiTruncate(h.name, 100);
  }
  let linkname = h.linkname ?? "";
  if (linkname.length > 100 || !isAscii(linkname)) {
    pax.push(paxRecord("linkpath", pathToBytes(linkname)));
    linkname = asciiTruncate(linkname, 100);
  }
  let { uid, gid, size, mtime } = h;
  if (uid > MAX_OCTAL_8 || uid < 0) {
    pax.push(paxRecord("uid", Buffer.from(String(uid))));
    uid = 0;
  }
  if (gid > MAX_OCTAL_8 || gid < 0) {
    pax.push(paxRecord("gid", Buffer.from(String(gid))));
    gid = 0;
  }
  if (size > MAX_OCTAL_12) {
    pax.push(paxRecord("size", Buffer.from(String(size))));
    size = 0;
  }
  mtime = Math.floor(mtime);
  if (mtime > MAX_OCTAL_12 || mtime < 0) {
    pax.push(paxRecord("mtime", Buffer.from(String(mtime))));
    mtime = 0;
  }
  if (h.xattrs) {
    for (const key of Object.keys(h.xattrs).sort()) {
      const v = h.xattrs[key]!;
      pax.push(paxRecord(`SCHILY.xattr.${key}`, typeof v === "string" ? Buffer.from(v) : Buffer.from(v)));
    }
  }
  const main = rawHeader({
    name,
    prefix,
    typeflag: TarType[h.type],
    mode: h.mode & 0o7777,
    uid,
    gid,
    size: h.type === "file" ? size : 0,
    mtime,
    linkname,
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  });
  if (pax.length === 0) return main;
  const body = Buffer.concat(pax);
  const paxHeader = rawHeader({
    name: asciiTruncate(`PaxHeaders.0/${baseName(h.name)}`, 100),
    prefix: "",
    typeflag: "x",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: 0,
    linkname: "",
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, body, Buffer.alloc(tarPadding(body.length)), main]);
}

function baseName(p: string): string {
  const trimmed = p.endsWith("/") ? p.slice(0, -1) : p;
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** asciiTruncate keeps the ASCII-printable characters of `s`, at most `max` of them, for the fallback ustar field. */
function asciiTruncate(s: string, max: number): string {
  let out = "";
  for (const ch of s) {
    if (out.length >= max) break;
    const c = ch.charCodeAt(0);
    out += c >= 0x20 && c <= 0x7e && ch.length === 1 ? ch : "_";
  }
  return out;
}
