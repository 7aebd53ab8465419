/**
 * Go's `path/filepath` helpers on Unix, which .dockerignore semantics are
 * defined by: Clean, Dir, and the syntax check of Match. They are ported
 * exactly because their corner cases (`docs/` becomes `docs`, a trailing `\` is an
 * error) are observable in which files a build sees.
 */

/** cleanPath is Go's `filepath.Clean` on Unix: the shortest equivalent path, "." for empty. */
export function cleanPath(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  if (rooted) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/** dirPath is Go's `filepath.Dir`: everything before the last `/`, cleaned. */
export function dirPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return cleanPath(path.slice(0, slash + 1));
}

/** ErrBadPattern is the message of Go's `filepath.ErrBadPattern`. */
export const ERR_BAD_PATTERN = "syntax error in pattern";

/**
 * isValidGlob reports whether Go's `filepath.Match` accepts the pattern
 * (Unix rules: `\` escapes, `[^...]` negates, ranges need both ends, a
 * class must close, a trailing `\` is an error). patternmatcher runs this
 * check when the pattern list is built.
 */
export function isValidGlob(pattern: string): boolean {
  let rest = Array.from(pattern);
  while (rest.length > 0) {
    while (rest[0] === "*") rest = rest.slice(1);
    const end = chunkEnd(rest);
    if (!isValidChunk(rest.slice(0, end))) return false;
    rest = rest.slice(end);
  }
  return true;
}

/** chunkEnd finds where Go's scanChunk stops: the first `*` outside a `[...]` class. */
function chunkEnd(p: string[]): number {
  let inRange = false;
  let i = 0;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      if (i + 1 < p.length) i++;
    } else if (c === "[") {
      inRange = true;
    } else if (c === "]") {
      inRange = false;
    } else if (c === "*" && !inRange) {
      break;
    }
  }
  return i;
}

/** isValidChunk parses a chunk the way Go's matchChunk does, reporting only syntax errors. */
function isValidChunk(chunk: string[]): boolean {
  let i = 0;
  while (i < chunk.length) {
    const c = chunk[i];
    if (c === "[") {
      i++;
      if (chunk[i] === "^") i++;
      let nrange = 0;
      for (;;) {
        if (chunk[i] === "]" && nrange > 0) {
          i++;
          break;
        }
        const lo = classChar(chunk, i);
        if (lo < 0) return false;
        i = lo;
        if (chunk[i] === "-") {
          const hi = classChar(chunk, i + 1);
          if (hi < 0) return false;
          i = hi;
        }
        nrange++;
      }
    } else if (c === "\\") {
      if (i + 1 >= chunk.length) return false;
      i += 2;
    } else {
      i++;
    }
  }
  return true;
}

/** classChar is Go's getEsc: reads one (possibly escaped) class character; returns the next index or -1. */
function classChar(chunk: string[], i: number): number {
  let j = i;
  if (j >= chunk.length || chunk[j] === "-" || chunk[j] === "]") return -1;
  if (chunk[j] === "\\") {
    j++;
    if (j >= chunk.length) return -1;
  }
  j++;
  // Go also fails when nothing follows the character: the class never closes.
  return j >= chunk.length ? -1 : j;
}

/** trimSpace is Go's `strings.TrimSpace`: Unicode White_Space only (unlike JS trim, U+FEFF is kept). */
export function trimSpace(s: string): string {
  return s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, "");
}
