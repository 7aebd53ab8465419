import type { ContainerConfig } from "@tsbuild/oci";
import type { AddInstruction, CopyInstruction } from "../dockerfile/instructions/types.js";
import { BuildError } from "../errors.js";
import type { PlannedStep } from "../plan/types.js";
import { download, unpackLocalArchive } from "./add.js";
import { stepKey } from "./cache.js";
import { Copier, type CopySource, matches } from "./copy.js";
import { cleanRel } from "./fsview.js";
import { type ModeSpec, type Owner, parseModeSpec, parseOwnerSpec } from "./owners.js";
import { ownerOf } from "./rootfs.js";
import { ContextFs, type SourceFs } from "./sources.js";
import { cachedOr, type StepContext, type StepOutcome, stepInputs } from "./steps.js";

const URL_RE = /^https?:\/\//i;
const GIT_RE = /^(git@|git:\/\/|ssh:\/\/)|\.git(#.*)?$/;

/** destination is BuildKit's pathRelativeToWorkingDir: absolute, cleaned, a trailing "/" kept ("." counts). */
function destination(dest: string, workdir: string): string {
  const dir = dest === "." || dest === "" || dest.endsWith("/") || dest.endsWith("/.");
  const abs = dest.startsWith("/") ? dest : `${workdir || "/"}/${dest}`;
  const clean = `/${cleanRel(abs)}`;
  return dir && clean !== "/" ? `${clean}/` : clean;
}

/** treeDigest lists what a context source holds (paths, types, modes, sizes, links, contents) for its key. */
function treeDigest(fs: ContextFs, path: string): unknown[] {
  const out: unknown[] = [];
  const walk = (p: string, rel: string) => {
    const n = fs.node(p);
    if (!n) return;
    out.push([rel, n.type, n.mode, n.size, n.linkname ?? "", n.type === "file" ? fs.digest(p) : ""]);
    if (n.type === "dir") for (const c of fs.children(p)) walk(p ? `${p}/${c}` : c, rel ? `${rel}/${c}` : c);
  };
  const resolved = fs.resolve(path);
  walk(resolved, "");
  return out;
}

/**
 * copyStep is COPY and ADD: the sources (context, another stage, an image, heredocs, URLs) are resolved and
 * hashed into the key first; only a miss copies, through the Copier's BuildKit rules.
 */
export async function copyStep(
  ctx: StepContext,
  step: PlannedStep,
  ins: CopyInstruction | AddInstruction,
  parentKey: string,
  config: ContainerConfig,
): Promise<StepOutcome> {
  const b = ctx.builder;
  const signal = b.options.signal;
  const dest = destination(ins.dest, config.WorkingDir ?? "/");
  if (ins.sources.length + ins.contents.length > 1 && !dest.endsWith("/")) {
    throw new BuildError(
      "INVALID_DESTINATION",
      `When using ${ins.kind.toUpperCase()} with more than one source file, the destination must be a directory and end with a /`,
    );
  }
  let chown: Owner | undefined;
  if (ins.chown) chown = await ownerOf(ctx, parseOwnerSpec(ins.chown));
  const chmod: ModeSpec | undefined = ins.chmod ? parseModeSpec(ins.chmod) : undefined;

  // Where the sources are.
  let fs: SourceFs;
  let fromKey: string | undefined;
  if (ins.kind === "copy" && ins.from !== undefined) {
    const stageIndex = step.fromStages?.[0];
    if (stageIndex !== undefined) {
      const r = await b.stageResult(stageIndex);
      const { StageFs } = await import("./sources.js");
      fs = new StageFs(await r.view(), r.layers, b.store);
      fromKey = r.key;
    } else {
      const ref = step.fromImages?.[0] ?? ins.from;
      const img = await b.imageFs(ref, ctx.stage.platform);
      fs = img.fs;
      fromKey = img.key;
    }
  } else {
    fs = undefined as unknown as SourceFs;
  }
  const sources: CopySource[] = [];
  const keyed: unknown[] = [];
  try {
    for (const src of ins.sources) {
      if (ins.kind === "add" && URL_RE.test(src) && !GIT_RE.test(src)) {
        const d = await download(src, (ins as AddInstruction).checksum, b.temps, signal);
        sources.push({ kind: "file", name: d.name, node: d.node, content: { file: d.file } });
        keyed.push({ url: src, digest: d.digest });
        continue;
      }
      if (ins.kind === "add" && (URL_RE.test(src) || GIT_RE.test(src))) {
        throw new BuildError("UNSUPPORTED", `ADD of a git repository (${src}) is not supported yet`);
      }
      if (fs === undefined) fs = await b.context();
      const unpack = ins.kind === "add" && (ins as AddInstruction).unpack !== false;
      sources.push({ kind: "path", fs, path: src, unpack });
      if (fs instanceof ContextFs) {
        const found = matches(fs, src);
        keyed.push({ path: src, matches: found.map((m) => [m, treeDigest(fs as ContextFs, m)]) });
      } else keyed.push({ path: src, from: fromKey });
    }
    for (const h of ins.contents) {
      const data = Buffer.from(h.data);
      sources.push({
        kind: "file",
        name: cleanRel(h.path),
        node: { type: "file", mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: b.epoch ?? 0 },
        content: data,
      });
      keyed.push({ heredoc: h.path, data: h.data });
    }
    const key = stepKey(parentKey, {
      step: stepInputs(step),
      dest,
      chown,
      sources: keyed,
      epoch: b.epoch,
    });
    return await cachedOr(ctx, key, async () => {
      const view = (await ctx.view()).clone();
      const copier = new Copier(view, {
        sources,
        dest,
        ...(chown ? { chown } : {}),
        ...(chmod ? { chmod } : {}),
        parents: ins.kind === "copy" && ins.parents,
        excludes: ins.excludes,
        mtime: b.epoch ?? 0,
        unpackArchive: (cfs, p) => unpackLocalArchive(cfs, p, b.temps, signal),
        ...(signal ? { signal } : {}),
      });
      const { entries } = await copier.run();
      return entries;
    });
  } finally {
    if (fs !== undefined && !(fs instanceof ContextFs)) await fs.close();
  }
}
