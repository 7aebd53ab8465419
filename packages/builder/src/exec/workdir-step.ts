import type { LayerEntry } from "@tsbuild/oci";
import { stepKey } from "./cache.js";
import { cleanRel, newDirMeta } from "./fsview.js";
import { ownerOfUser } from "./rootfs.js";
import { cachedOr, type StepContext, type StepOutcome } from "./steps.js";
import type { ExecStep } from "./typed.js";

/**
 * workdirStep is WORKDIR as BuildKit runs it: the directory (and missing parents) is created 0755, owned
 * by the USER in effect (setgid and the parent's group inside a setgid directory: newDirMeta); the
 * layer holds what was created plus its existing parents. A directory that already exists makes no
 * layer, and `/` never does.
 */
export async function workdirStep(
  ctx: StepContext,
  step: Extract<ExecStep, { kind: "workdir" }>,
  parentKey: string,
): Promise<StepOutcome> {
  const wd = cleanRel(step.path);
  const user = step.scope.user;
  const epoch = ctx.builder.epoch;
  const key = stepKey(parentKey, { step: step.inputs, wd, user, epoch });
  return cachedOr(ctx, key, async () => {
    if (wd === "") return undefined;
    const view = await ctx.view();
    const created: string[] = [];
    const segs = wd.split("/");
    let cur = "";
    for (const seg of segs) {
      cur = view.resolve(cur ? `${cur}/${seg}` : seg);
      if (!view.get(cur)) created.push(cur);
    }
    if (created.length === 0) return [];
    const owner = user ? await ownerOfUser(ctx, user) : undefined;
    const entries = new Map<string, LayerEntry>();
    for (const p of created) {
      // the parent is one this step made just before, or one the stage has
      const up = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
      const made = entries.get(up);
      const parent = made ? { mode: made.mode ?? 0o755, gid: made.gid ?? 0 } : view.get(view.resolve(up));
      entries.set(p, { path: p, type: "dir", ...newDirMeta(parent, owner), mtime: epoch ?? 0 });
    }
    for (const p of created) {
      for (
        let q = p.slice(0, Math.max(0, p.lastIndexOf("/")));
        q !== "";
        q = q.slice(0, Math.max(0, q.lastIndexOf("/")))
      ) {
        if (entries.has(q)) continue;
        const n = view.get(q);
        if (n)
          entries.set(q, { path: q, type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, mtime: n.mtime });
      }
    }
    return [...entries.values()];
  });
}
