const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/**
 * goQuote is Go's strconv.Quote: the AST dump format is defined in terms of it, and it differs from
 * JSON.stringify (`\x00` not `\u0000`, `\a`/`\v`, non-printable non-ASCII as `\u`/`\U`).
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c < 0x80) {
      switch (c) {
        case 0x07:
          out += "\\a";
          break;
        case 0x08:
          out += "\\b";
          break;
        case 0x0c:
          out += "\\f";
          break;
        case 0x0a:
          out += "\\n";
          break;
        case 0x0d:
          out += "\\r";
          break;
        case 0x09:
          out += "\\t";
          break;
        case 0x0b:
          out += "\\v";
          break;
        default:
          out += `\\x${hex(c, 2)}`;
      }
    } else if (c >= 0xdc80 && c <= 0xdcff) {
      // an invalid input byte, kept by decodeUtf8 as a lone surrogate: Go prints the byte
      out += `\\x${hex(c - 0xdc00, 2)}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // any other lone surrogate cannot come from UTF-8; Go would have decoded it as U+FFFD
      out += "\uFFFD";
    } else if (printable.test(ch)) out += ch;
    else if (c < 0x10000) out += `\\u${hex(c, 4)}`;
    else out += `\\U${hex(c, 8)}`;
  }
  return `${out}"`;
}
