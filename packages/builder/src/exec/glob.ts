import type { SourceFs } from "./sources.js";

/** hasWildcard is true when a COPY source uses Go filepath.Match syntax (`*`, `?`, `[…]`). */
export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

/** segmentRegex compiles one path segment of a Go filepath.Match pattern. */
function segmentRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) re += escapeChar(pattern[++i]!);
    else if (c === "[") {
      let j = i + 1;
      let cls = "";
      if (pattern[j] === "^") {
        cls += "^";
        j++;
      }
      while (j < pattern.length && pattern[j] !== "]") {
        const d = pattern[j]!;
        if (d === "\\" && j + 1 < pattern.length) {
          cls += escapeChar(pattern[++j]!);
        } else cls += d === "-" ? "-" : escapeChar(d);
        j++;
      }
      if (j >= pattern.length) throw new Error(`syntax error in pattern ${JSON.stringify(pattern)}`);
      re += `[${cls}]`;
      i = j;
    } else re += escapeChar(c);
  }
  return new RegExp(`^${re}$`, "s");
}

function escapeChar(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/**
 * expandWildcard lists the paths of `fs` a pattern matches, segment by segment as BuildKit's
 * ResolveWildcards does (symlinked directories on the way are followed), sorted.
 */
export function expandWildcard(fs: SourceFs, pattern: string): string[] {
  const segs = pattern.split("/").filter((s) => s !== "" && s !== ".");
  let current = [""];
  for (const seg of segs) {
    const next: string[] = [];
    for (const base of current) {
      if (!hasWildcard(seg)) {
        const p = base ? `${base}/${seg}` : seg;
        if (fs.node(p) || fs.node(fs.resolve(p))) next.push(p);
        continue;
      }
      const re = segmentRegex(seg);
      const dir = base === "" ? "" : fs.resolve(base);
      for (const name of fs.children(dir)) if (re.test(name)) next.push(base ? `${base}/${name}` : name);
    }
    current = next;
  }
  return current.sort();
}
