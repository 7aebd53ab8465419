import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chainIds } from "@tsbuild/oci";
import type { RunMount as MountSpec } from "../dockerfile/instructions/types.js";
import { BuildError } from "../errors.js";
import { ensureRunnable } from "../run/emulation.js";
import { type RunMount, runStep } from "../run/execute.js";
import { currentIdentity } from "../sandbox/idmap.js";
import { runInNamespace } from "../sandbox/namespace.js";
import { type UnpackedHold, UnpackedLayers } from "../snapshot/unpacked.js";
import { BUILD_CACHE, stepKey } from "./cache.js";
import { cleanRel } from "./fsview.js";
import { ContextFs, type SourceFs, StageFs } from "./sources.js";
import { cachedOr, type StepContext, type StepOutcome } from "./steps.js";
import type { ExecStep } from "./typed.js";

/**
 * unpackedDirs returns the stage's layers unpacked (shared cache by chain ID), lowest first, held
 * against a concurrent prune until `hold.release()`.
 */
export async function unpackedDirs(ctx: StepContext): Promise<{ dirs: string[]; hold: UnpackedHold }> {
  const b = ctx.builder;
  const cache = new UnpackedLayers(join(b.store.root, BUILD_CACHE, "unpacked"));
  const chain = chainIds(ctx.layers.map((l) => l.diffId));
  const hold = await cache.hold(chain);
  const dirs: string[] = [];
  try {
    for (const [i, layer] of ctx.layers.entries()) {
      dirs.push(
        // A lazy base layer is fetched (verified) here, when the first RUN needs it.
        await cache.ensure(chain[i]!, i > 0 ? chain[i - 1] : undefined, () =>
          b.openLayer(layer, b.options.signal),
        ),
      );
    }
  } catch (err) {
    await hold.release();
    throw err;
  }
  return { dirs, hold };
}

/** materialize writes a tree of a SourceFs (a stage, an image) into a directory, for a bind mount. */
async function materialize(fs: SourceFs, path: string, dest: string): Promise<void> {
  const root = fs.resolve(path);
  const files: string[] = [];
  const walk = (p: string, acc: string[]) => {
    const n = fs.node(p);
    if (!n) return;
    acc.push(p);
    if (n.type === "dir") for (const c of fs.children(p)) walk(p ? `${p}/${c}` : c, acc);
  };
  const all: string[] = [];
  walk(root, all);
  for (const p of all) if (fs.node(p)?.type === "file") files.push(p);
  await fs.prepare(files);
  for (const p of all) {
    const n = fs.node(p)!;
    const rel = root === "" ? p : p.slice(root.length).replace(/^\//, "");
    const out = rel === "" ? dest : join(dest, rel);
    if (n.type === "dir") await mkdir(out, { recursive: true });
    else if (n.type === "symlink") await symlink(n.linkname ?? "", out);
    else if (n.type === "file") {
      const c = fs.content(p);
      if (c && typeof c === "object" && "file" in c) await copyFile(c.file, out);
      await chmod(out, n.mode);
    }
  }
}

/** BuildSecrets and SshSockets are `build --secret` and `build --ssh`, by id. */
export type BuildSecrets = ReadonlyMap<string, Uint8Array>;

function mountKeyId(m: MountSpec): string {
  return m.id ?? m.target ?? "";
}

/**
 * runStepExec is RUN: the stage's layers are unpacked once (shared by chain ID), the command runs in a runc
 * sandbox on an overlay of them with the step's mounts, and the upper dir becomes the layer. The key holds
 * the command, the environment, user, working directory and what bind mounts read; never a secret.
 */
export async function runStepExec(
  ctx: StepContext,
  step: Extract<ExecStep, { kind: "run" }>,
  parentKey: string,
): Promise<StepOutcome> {
  const b = ctx.builder;
  const o = b.options;
  const run = step.run;
  if (run.security === "insecure" && !(o.allow ?? []).includes("security.insecure")) {
    throw new BuildError(
      "UNSUPPORTED",
      "RUN --security=insecure needs the build to allow it: --allow security.insecure",
    );
  }
  const network = run.network !== "default" ? run.network : (o.network ?? "default");
  // What bind mounts read enters the key; cache, tmpfs, secret and ssh mounts do not.
  const mountKeys: unknown[] = [];
  const binds: { spec: MountSpec; fs: SourceFs; fromKey?: string }[] = [];
  for (const m of run.mounts) {
    if (m.type !== "bind") {
      mountKeys.push({ type: m.type, target: m.target, id: mountKeyId(m) });
      continue;
    }
    let fs: SourceFs;
    let fromKey: string | undefined;
    if (m.from) {
      const stage = b.plan.stages.find((s) => s.name === m.from!.toLowerCase() || String(s.index) === m.from);
      if (stage) {
        const r = await b.stageResult(stage.index);
        fs = new StageFs(await r.view(), r.layers, b.openLayer);
        fromKey = r.key;
      } else {
        const img = await b.imageFs(m.from, ctx.stage.platform);
        fs = img.fs;
        fromKey = img.key;
      }
    } else fs = await b.context();
    binds.push({ spec: m, fs, ...(fromKey ? { fromKey } : {}) });
    mountKeys.push({
      type: "bind",
      target: m.target,
      source: m.source ?? "/",
      rw: !m.readOnly,
      content: fs instanceof ContextFs ? fs.treeDigest(cleanRel(m.source ?? "")) : fromKey,
    });
  }
  const env = step.scope.env.map(([k, v]) => `${k}=${v}`);
  const key = stepKey(parentKey, {
    step: step.inputs,
    env,
    user: step.scope.user,
    workdir: step.scope.workdir,
    mounts: mountKeys,
    epoch: b.epoch,
  });
  const temps: string[] = [];
  let cleanup: (() => Promise<void>) | undefined;
  let hold: UnpackedHold | undefined;
  try {
    return await cachedOr(ctx, key, async () => {
      // A cached RUN needs no emulator; one that runs does when the stage is for another architecture.
      await ensureRunnable(ctx.stage.platform, ctx.stage.id);
      const unpacked = await unpackedDirs(ctx);
      hold = unpacked.hold;
      const lowerDirs = unpacked.dirs;
      const mounts: RunMount[] = [];
      for (const m of run.mounts) {
        const target = m.target ?? "";
        if (m.type === "cache") {
          const id = createHash("sha256").update(mountKeyId(m)).digest("hex").slice(0, 32);
          const dir = join(b.store.root, BUILD_CACHE, "mounts", id);
          if (!existsSync(dir)) {
            // A new cache dir gets the mount's owner and mode, set inside the user namespace when rootless
            // (the ids are the container's).
            await mkdir(dir, { recursive: true });
            const owner = `${m.uid ?? 0}:${m.gid ?? 0}`;
            const mode = (m.mode ?? 0o755).toString(8);
            await runInNamespace(currentIdentity(), "sh", [
              "-c",
              'chown "$1" "$3" && chmod "$2" "$3"',
              "sh",
              owner,
              mode,
              dir,
            ]);
          }
          mounts.push({ type: "cache", target, source: dir, ...(m.readOnly ? { readonly: true } : {}) });
        } else if (m.type === "tmpfs") {
          mounts.push({ type: "tmpfs", target, ...(m.size ? { size: m.size } : {}) });
        } else if (m.type === "secret") {
          const id = m.id ?? target.split("/").pop() ?? "";
          const content = o.secrets?.get(id);
          if (!content) {
            if (m.required)
              throw new BuildError(
                "UNSUPPORTED",
                `secret ${id} not found: give it with --secret id=${id},src=FILE`,
              );
            continue;
          }
          mounts.push({
            type: "secret",
            target: target || `/run/secrets/${id}`,
            content,
            ...(m.mode !== undefined ? { mode: m.mode } : {}),
            ...(m.uid !== undefined ? { uid: m.uid } : {}),
            ...(m.gid !== undefined ? { gid: m.gid } : {}),
          });
        } else if (m.type === "ssh") {
          const id = m.id ?? "default";
          const socket = o.ssh?.get(id);
          if (!socket) {
            if (m.required)
              throw new BuildError("UNSUPPORTED", `no SSH agent for id ${id}: give it with --ssh ${id}`);
            continue;
          }
          mounts.push({ type: "ssh", target: target || "/run/buildkit/ssh_agent.0", socket });
        }
      }
      for (const { spec, fs } of binds) {
        let source: string;
        if (fs instanceof ContextFs) source = fs.abs(fs.resolve(spec.source ?? ""));
        else {
          const dir = await mkdtemp(join(tmpdir(), "tsbuild-bind-"));
          temps.push(dir);
          source = join(dir, "src");
          await materialize(fs, spec.source ?? "", source);
        }
        mounts.push({
          type: "bind",
          target: spec.target ?? "",
          source,
          ...(spec.readOnly ? {} : { readwrite: true }),
        });
      }
      const proxy = Object.entries(b.plan.proxyEnv).map(([k, v]) => `${k}=${v}`);
      const result = await runStep({
        lowerDirs,
        args: run.args,
        env: [...env, ...proxy.filter((p) => !env.some((e) => e.split("=")[0] === p.split("=")[0]))],
        cwd: step.scope.workdir,
        user: step.scope.user,
        network,
        mounts,
        tmpDir: join(b.store.root, BUILD_CACHE),
        ...(o.runtime ? { runtime: o.runtime } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        onOutput: (chunk, stream) => b.log(ctx.stepId, stream, chunk),
      });
      cleanup = result.cleanup;
      for (const w of result.warnings) b.warn(w);
      return result.entries;
    });
  } finally {
    await cleanup?.();
    await hold?.release();
    for (const t of temps) await rm(t, { recursive: true, force: true });
    for (const { fs } of binds) if (!(fs instanceof ContextFs)) await fs.close();
  }
}
