/**
 * isSpace is Go's unicode.IsSpace, which the reference parser uses everywhere. JavaScript's `\s` differs
 * (it includes U+FEFF and not U+0085), so the parser never uses `\s` or String.prototype.trim.
 */
export function isSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** isWordSpace matches the reference `[\t\v\f\r ]+` separator used to split FROM/EXPOSE/COPY arguments. */
export function isWordSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

/** trimLeftSpace is Go's strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i === 0 ? s : s.slice(i);
}

/** trimRightSpace is Go's strings.TrimRightFunc(s, unicode.IsSpace). */
export function trimRightSpace(s: string): string {
  let j = s.length;
  while (j > 0 && isSpace(s.charCodeAt(j - 1))) j--;
  return j === s.length ? s : s.slice(0, j);
}

/** trimSpace is Go's strings.TrimSpace. */
export function trimSpace(s: string): string {
  return trimRightSpace(trimLeftSpace(s));
}

/** splitWordSpace splits on runs of `[\t\v\f\r ]`, like the reference regexp Split(s, -1). */
export function splitWordSpace(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < s.length) {
    if (isWordSpace(s.charCodeAt(i))) {
      out.push(s.slice(start, i));
      while (i < s.length && isWordSpace(s.charCodeAt(i))) i++;
      start = i;
    } else i++;
  }
  out.push(s.slice(start));
  return out;
}

/** splitWordSpaceOnce splits at the first run of `[\t\v\f\r ]`, like regexp Split(s, 2). */
export function splitWordSpaceOnce(s: string): [string] | [string, string] {
  for (let i = 0; i < s.length; i++) {
    if (isWordSpace(s.charCodeAt(i))) {
      let j = i;
      while (j < s.length && isWordSpace(s.charCodeAt(j))) j++;
      return [s.slice(0, i), s.slice(j)];
    }
  }
  return [s];
}
