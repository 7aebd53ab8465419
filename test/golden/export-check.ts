import { createReadStream } from "node:fs";
import { readLayerEntries } from "@tsbuild/oci";
import { type Difference, diffDescriptions } from "./compare.js";
import { applyToTree, describeEntry, type EntryDescription, type ImageDescription } from "./describe.js";

/**
 * RUNTIME_PATHS are what docker adds to a container's filesystem (its init
 * layer and mount points), so they are not compared with the image's tree.
 */
const RUNTIME_PATHS = [
  /^\/\.dockerenv$/,
  /^\/(dev|proc|sys)(\/|$)/,
  /^\/etc\/(hosts|hostname|resolv\.conf|mtab)$/,
];

/** asInodes turns hardlinks into the files they are, since which name a tar stores first is arbitrary. */
function asInodes(tree: EntryDescription[]): EntryDescription[] {
  return tree
    .filter((e) => !RUNTIME_PATHS.some((r) => r.test(e.path)))
    .map((e) => {
      if (e.type !== "hardlink") return e;
      const { linkname: _l, ...rest } = e;
      return { ...rest, type: "file" };
    });
}

/**
 * checkExport compares a description's merged tree with `docker export` of a
 * container created from the same image: docker's own overlay view of the
 * filesystem. It is how the recordings check describe.ts's whiteout and
 * opaque handling against docker itself; it returns the differences.
 */
export async function checkExport(expected: ImageDescription, exportTar: string): Promise<Difference[]> {
  const tree = new Map<string, EntryDescription>();
  applyToTree(tree, (await readLayerEntries(createReadStream(exportTar))).map(describeEntry));
  const empty = { config: expected.config, layers: [] };
  return diffDescriptions(
    { ...empty, tree: asInodes(expected.tree) },
    { ...empty, tree: asInodes([...tree.values()]) },
  );
}
