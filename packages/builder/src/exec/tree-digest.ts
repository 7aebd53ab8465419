import { createHash } from "node:crypto";
import type { ContextFs } from "./sources.js";

/**
 * treeDigest hashes what a context source holds (paths, types, modes, sizes, links, contents) for its key,
 * streaming into one hash (a large tree must not become a large array).
 */
export function treeDigest(fs: ContextFs, path: string): string {
  const h = createHash("sha256");
  const walk = (p: string, rel: string) => {
    const n = fs.node(p);
    if (!n) return;
    h.update(
      `${rel}\0${n.type}\0${n.mode}\0${n.size}\0${n.linkname ?? ""}\0${n.type === "file" ? fs.digest(p) : ""}\n`,
    );
    if (n.type === "dir") for (const c of fs.children(p)) walk(p ? `${p}/${c}` : c, rel ? `${rel}/${c}` : c);
  };
  walk(fs.resolve(path), "");
  return `sha256:${h.digest("hex")}`;
}
