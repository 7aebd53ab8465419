import { readLayerFile } from "./layer-index.js";
import { needsLookup, type Owner, type OwnerSpec, parseOwnerSpec, resolveOwner } from "./owners.js";
import type { StepContext } from "./steps.js";

/** readRootfsFile reads a small file of the stage's root filesystem from the layer that holds it. */
export async function readRootfsFile(ctx: StepContext, path: string): Promise<string | undefined> {
  const view = await ctx.view();
  const p = view.resolve(path);
  let node = view.get(p);
  let holder = p;
  if (node?.type === "hardlink" && node.linkname) {
    holder = node.linkname;
    node = view.get(holder);
  }
  if (node?.type !== "file") return undefined;
  const layer = ctx.layers[node.layer];
  if (!layer) return undefined;
  const bytes = await readLayerFile(ctx.builder.openLayer, layer, holder);
  return bytes?.toString("utf8");
}

/** ownerOf resolves a `--chown` spec against the stage's /etc/passwd and /etc/group when it names any. */
export async function ownerOf(ctx: StepContext, spec: OwnerSpec): Promise<Owner> {
  if (!needsLookup(spec)) return resolveOwner(spec, undefined, undefined);
  const [passwd, group] = await Promise.all([
    typeof spec.user === "string" ? readRootfsFile(ctx, "/etc/passwd") : undefined,
    typeof spec.group === "string" ? readRootfsFile(ctx, "/etc/group") : undefined,
  ]);
  return resolveOwner(spec, passwd, group);
}

/** ownerOfUser resolves a USER value (`name`, `uid`, `name:group`) to ids for files a step creates. */
export function ownerOfUser(ctx: StepContext, user: string): Promise<Owner> {
  return ownerOf(ctx, parseOwnerSpec(user));
}
