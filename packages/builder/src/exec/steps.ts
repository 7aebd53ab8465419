import { createLayer, type LayerEntry } from "@tsbuild/oci";
import type { PlannedStage } from "../plan/types.js";
import { stepKey } from "./cache.js";
import { copyStep } from "./copy-step.js";
import type { Builder } from "./engine.js";
import type { FsView, IndexedEntry } from "./fsview.js";
import { indexEntries, type LayerRef } from "./layer-index.js";
import { runStepExec } from "./run-step.js";
import type { ExecStep } from "./typed.js";
import { workdirStep } from "./workdir-step.js";

/** StepContext is what a step executor sees of its stage. */
export interface StepContext {
  builder: Builder;
  stage: PlannedStage;
  readonly layers: LayerRef[];
  view(): Promise<FsView>;
  noCache: boolean;
  /** stepId is the running step's progress id (for its log lines). */
  stepId: number;
}

/** StepOutcome is a step's result: its key, whether the cache answered, and the layer it made (if any). */
export interface StepOutcome {
  key: string;
  cached: boolean;
  created: string;
  layer?: LayerRef;
  /** entries are the new layer's index entries when the step ran (a cached layer is indexed from disk). */
  entries?: IndexedEntry[];
}

/** nowIso is the time a step ran, or SOURCE_DATE_EPOCH when set, as RFC 3339. */
export function nowIso(epoch: number | undefined): string {
  return epoch !== undefined
    ? new Date(epoch * 1000).toISOString().replace(".000Z", "Z")
    : new Date().toISOString();
}

/**
 * cachedOr answers a step from the cache, or runs `produce` and records what it made: a layer when it
 * returned entries, nothing when it changed nothing.
 */
export async function cachedOr(
  ctx: StepContext,
  key: string,
  produce: () => Promise<LayerEntry[] | undefined>,
): Promise<StepOutcome> {
  const b = ctx.builder;
  if (!ctx.noCache) {
    const rec = (await b.cache.get(key)) ?? (await b.imported(key));
    if (rec) {
      if (rec.layer) await b.lease.add([rec.layer.digest]);
      b.recordStep(ctx.stage.index, rec);
      return { key, cached: true, created: rec.created, ...(rec.layer ? { layer: rec.layer } : {}) };
    }
  }
  const entries = await produce();
  const created = nowIso(b.epoch);
  let layer: LayerRef | undefined;
  let indexed: IndexedEntry[] | undefined;
  // A file step that changed nothing still makes a layer (an empty tar), as BuildKit's exporter does.
  if (entries) {
    const made = createLayer(
      { entries },
      {
        ...(b.epoch !== undefined ? { sourceDateEpoch: b.epoch } : {}),
        ...(b.options.signal ? { signal: b.options.signal } : {}),
      },
    );
    const written = await b.store.writeBlob(made.stream, undefined, {
      lease: b.lease,
      // createLayer counts the size itself (recorded below); the store need not inflate the layer again.
      measure: false,
      ...(b.options.signal ? { signal: b.options.signal } : {}),
    });
    const result = await made.result;
    layer = {
      digest: written.digest,
      diffId: result.diffId,
      size: written.size,
      mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      ...(result.diskSize !== undefined ? { diskSize: result.diskSize } : {}),
    };
    if (result.diskSize !== undefined) await b.store.recordLayerSize(written.digest, result.diskSize);
    indexed = indexEntries(entries);
    if (b.epoch !== undefined) for (const e of indexed) if (e.mtime > b.epoch) e.mtime = b.epoch;
    await b.index.record(result.diffId, indexed);
  }
  const rec = { key, created, ...(layer ? { layer } : {}) };
  await b.cache.put(rec);
  b.recordStep(ctx.stage.index, rec);
  return { key, cached: false, created, ...(layer ? { layer, entries: indexed! } : {}) };
}

/** executeStep runs one step on its stage (RUN is the sandbox's, not here yet). */
export async function executeStep(ctx: StepContext, step: ExecStep, parentKey: string): Promise<StepOutcome> {
  switch (step.kind) {
    case "copy":
      return copyStep(ctx, step, parentKey);
    case "workdir":
      return workdirStep(ctx, step, parentKey);
    case "run":
      return runStepExec(ctx, step, parentKey);
    case "config": {
      const key = stepKey(parentKey, { step: step.inputs, epoch: ctx.builder.epoch });
      return cachedOr(ctx, key, async () => undefined);
    }
  }
}
