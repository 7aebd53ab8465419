import { isUtf8 } from "node:buffer";
import { readdirSync } from "node:fs";

/**
 * path-bytes carries file names that are not valid UTF-8 through JS strings
 * without loss. Linux names are bytes; Node decodes them as UTF-8 and turns
 * every invalid byte into U+FFFD, so `bad\xffname` comes back as a name that
 * does not exist. As Python's "surrogateescape" does, each byte that is not
 * part of a valid UTF-8 sequence becomes the lone surrogate U+DC80..U+DCFF
 * instead. Valid UTF-8 never decodes to a lone surrogate, so the mapping is
 * one to one, names that are valid UTF-8 are unchanged, and every string
 * operation on paths ("/" splitting, joining, map keys) keeps working.
 *
 * Such a string must go through {@link pathToBytes} (tar headers, byte
 * order) or {@link fsPath} (fs calls) rather than Buffer.from or fs directly,
 * which would encode each escape as U+FFFD.
 */

const ESCAPE = /[\udc80-\udcff]/;

/** pathFromBytes decodes a file name's bytes, escaping the bytes that are not valid UTF-8 (see above). */
export function pathFromBytes(b: Uint8Array): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
  if (isUtf8(buf)) return buf.toString("utf8");
  let out = "";
  let start = 0; // start of the current run of valid UTF-8
  let i = 0;
  while (i < buf.length) {
    const c = buf[i]!;
    const n =
      c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n === 1 || (n > 0 && i + n <= buf.length && isUtf8(buf.subarray(i, i + n)))) {
      i += n;
      continue;
    }
    out += buf.toString("utf8", start, i) + String.fromCharCode(0xdc00 + c);
    i++;
    start = i;
  }
  return out + buf.toString("utf8", start);
}

/** hasEscapedBytes says whether `s` holds bytes that pathFromBytes escaped (so Buffer.from(s) would lose them). */
export function hasEscapedBytes(s: string): boolean {
  return ESCAPE.test(s);
}

/** pathToBytes is the inverse of pathFromBytes: the exact bytes of a name, for tar headers and byte-wise order. */
export function pathToBytes(s: string): Buffer {
  if (!ESCAPE.test(s)) return Buffer.from(s);
  const parts: Buffer[] = [];
  let run = "";
  for (const ch of s) {
    // for…of yields a lone surrogate on its own; a valid pair comes as one code point above U+FFFF.
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) {
      if (run) parts.push(Buffer.from(run));
      run = "";
      parts.push(Buffer.of(cp - 0xdc00));
    } else run += ch;
  }
  if (run) parts.push(Buffer.from(run));
  return Buffer.concat(parts);
}

/** fsPath is what to hand an fs call for a path that may hold escaped bytes: the string itself, or its bytes when it does. */
export function fsPath(s: string): string | Buffer {
  return ESCAPE.test(s) ? pathToBytes(s) : s;
}

/**
 * readDirNames lists a directory's names, decoded with pathFromBytes. The
 * common case costs one string readdir; only a directory where Node had to
 * replace bytes (a U+FFFD appears) is read again as bytes.
 */
export function readDirNames(dir: string): string[] {
  const names = readdirSync(fsPath(dir));
  if (!names.some((n) => n.includes("\ufffd"))) return names;
  return readdirSync(fsPath(dir), { encoding: "buffer" }).map(pathFromBytes);
}
