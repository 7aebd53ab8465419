import { listContext } from "../dockerfile/dockerignore/context.js";
import { download, unpackLocalArchive } from "./add.js";
import { stepKey } from "./cache.js";
import { Copier, type CopySource, matches } from "./copy.js";
import { cleanRel, FsView } from "./fsview.js";
import { cloneGit, GIT_SOURCE } from "./git.js";
import { type ModeSpec, type Owner, parseModeSpec, parseOwnerSpec } from "./owners.js";
import { ownerOf } from "./rootfs.js";
import { ContextFs, type SourceFs, StageFs } from "./sources.js";
import { StatCache } from "./stat-cache.js";
import { cachedOr, type StepContext, type StepOutcome } from "./steps.js";
import type { ExecStep } from "./typed.js";

const URL_RE = /^https?:\/\//i;

/**
 * copyStep is COPY and ADD: the sources (context, another stage, an image, heredocs, URLs) are resolved and
 * hashed into the key first; only a miss copies, through the Copier's BuildKit rules.
 */
export async function copyStep(
  ctx: StepContext,
  step: Extract<ExecStep, { kind: "copy" }>,
  parentKey: string,
): Promise<StepOutcome> {
  const b = ctx.builder;
  const signal = b.options.signal;
  const args = step.copy;
  const dest = args.dest;
  let chown: Owner | undefined;
  if (args.chown) chown = await ownerOf(ctx, parseOwnerSpec(args.chown));
  const chmod: ModeSpec | undefined = args.chmod ? parseModeSpec(args.chmod) : undefined;

  // Where the sources are: the context, another stage, or an image.
  let fs: SourceFs | undefined;
  let fromKey: string | undefined;
  if (args.from && "stage" in args.from) {
    const r = await b.stageResult(args.from.stage);
    fs = new StageFs(await r.view(), r.layers, b.openLayer);
    fromKey = r.key;
  } else if (args.from) {
    const img = await b.imageFs(args.from.image, ctx.stage.platform);
    fs = img.fs;
    fromKey = img.key;
  }
  const sources: CopySource[] = [];
  const keyed: unknown[] = [];
  try {
    for (const src of args.sources) {
      if (args.add && GIT_SOURCE.test(src)) {
        // A git repository: its tree at the ref is copied like a directory of the context.
        const co = await cloneGit(src, args.keepGitDir, b.temps, signal);
        const entries = await listContext(co.dir);
        // Hashes of a temporary checkout are not worth keeping in the build's stat cache.
        const gfs = new ContextFs(co.dir, entries, await StatCache.open(`${co.dir}.stat.tsv`));
        sources.push({ kind: "path", fs: gfs, path: co.subdir, unpack: false });
        keyed.push({ git: src, commit: co.commit, keepGitDir: args.keepGitDir });
        continue;
      }
      if (args.add && URL_RE.test(src)) {
        const id = ctx.stepId;
        let moved = -1;
        const d = await download(src, args.checksum, b.temps, signal, (current, total) => {
          b.transfer(id, moved < 0 ? current : current - moved, moved < 0 ? (total ?? null) : undefined);
          moved = current;
        });
        sources.push({ kind: "file", name: d.name, node: d.node, content: { file: d.file } });
        keyed.push({ url: src, digest: d.digest });
        continue;
      }
      if (fs === undefined) fs = await b.context();
      sources.push({ kind: "path", fs, path: src, unpack: args.unpack });
      if (fs instanceof ContextFs) {
        const cfs = fs;
        const found = matches(cfs, src);
        await cfs.prehash(found);
        keyed.push({ path: src, matches: found.map((m) => [m, cfs.treeDigest(m)]) });
      } else keyed.push({ path: src, from: fromKey });
    }
    for (const h of args.heredocs) {
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
      step: step.inputs,
      dest,
      chown,
      sources: keyed,
      epoch: b.epoch,
    });
    return await cachedOr(ctx, key, async () => {
      // --link makes a layer independent of the base (BuildKit copies onto scratch): only the
      // copied files and the parents it creates, so it never needs the base's files.
      const view = args.link ? new FsView() : (await ctx.view()).clone();
      const copier = new Copier(view, {
        sources,
        dest,
        ...(chown ? { chown } : {}),
        ...(chmod ? { chmod } : {}),
        parents: args.parents,
        excludes: args.excludes,
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
