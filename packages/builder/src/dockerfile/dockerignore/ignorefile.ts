import { cleanPath, trimSpace } from "./gopath.js";

/**
 * parseIgnoreFile turns .dockerignore text into patterns the way
 * moby/patternmatcher's ignorefile.ReadAll does: a UTF-8 BOM is dropped,
 * lines starting with `#` (at column 0) are comments, lines are trimmed and
 * empty ones skipped, `! x` becomes `!x`, paths are cleaned and a leading `/`
 * is removed (patterns are relative to the context root). A lone `!`
 * survives here; building the matcher rejects it.
 */
export function parseIgnoreFile(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    let line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (index === 0 && line.startsWith("\uFEFF")) line = line.slice(1);
    if (line.startsWith("#")) return;
    let pattern = trimSpace(line);
    if (pattern === "") return;
    const invert = pattern.startsWith("!");
    if (invert) pattern = trimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  });
  return patterns;
}
