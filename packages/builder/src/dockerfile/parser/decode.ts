const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * decodeUtf8 decodes Dockerfile bytes. Valid UTF-8 (the usual case) takes the fast path. Invalid bytes
 * are kept as lone surrogates U+DC80..U+DCFF ("surrogateescape"), so that goQuote can print them as
 * `\xNN` exactly as the reference dump does, instead of losing them to U+FFFD.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    return decodeEscaping(bytes);
  }
}

const isCont = (b: number | undefined) => b !== undefined && b >= 0x80 && b <= 0xbf;

function decodeEscaping(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk: number[] = [];
  const flush = () => {
    if (chunk.length > 0) {
      parts.push(String.fromCodePoint(...chunk));
      chunk = [];
    }
  };
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    let cp = -1;
    let width = 1;
    if (b0 < 0x80) cp = b0;
    else if (b0 >= 0xc2 && b0 <= 0xdf && isCont(bytes[i + 1])) {
      cp = ((b0 & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
      width = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      const b1 = bytes[i + 1];
      const lo = b0 === 0xe0 ? 0xa0 : 0x80;
      const hi = b0 === 0xed ? 0x9f : 0xbf;
      if (b1 !== undefined && b1 >= lo && b1 <= hi && isCont(bytes[i + 2])) {
        cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
        width = 3;
      }
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      const b1 = bytes[i + 1];
      const lo = b0 === 0xf0 ? 0x90 : 0x80;
      const hi = b0 === 0xf4 ? 0x8f : 0xbf;
      if (b1 !== undefined && b1 >= lo && b1 <= hi && isCont(bytes[i + 2]) && isCont(bytes[i + 3])) {
        cp =
          ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f);
        width = 4;
      }
    }
    chunk.push(cp < 0 ? 0xdc00 + b0 : cp);
    if (chunk.length >= 4096) flush();
    i += width;
  }
  flush();
  return parts.join("");
}
