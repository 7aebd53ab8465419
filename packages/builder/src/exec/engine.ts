import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import {
  type BlobFetcher,
  type BlobLease,
  type BlobSource,
  type ImageConfig as Config,
  copyImage,
  type Digest,
  formatPlatform,
  fsPath,
  type HistoryEntry,
  hostPlatform,
  type ImageConfig,
  type Manifest,
  MediaType,
  normalizePlatform,
  type Platform,
  parseReference,
  type StoredImage,
  storeSink,
} from "@tsbuild/oci";
import { BlobSources, blobFetcher, resolveImage } from "@tsbuild/registry-client";
import { exportCache } from "../cache/export.js";
import { INLINE_CACHE_FIELD, portableRecords } from "../cache/format.js";
import { adopt, ImportedCache } from "../cache/import.js";
import { type Dockerfile, parseDockerfile } from "../dockerfile/dockerfile.js";
import { selectBuildContext } from "../dockerfile/dockerignore/context.js";
import type { SourceLocation } from "../dockerfile/instructions/types.js";
import { sourceSnippet } from "../dockerfile/lint/format.js";
import { BuildError, isBuildError } from "../errors.js";
import { type BaseImage, foldSteps, omitEmpty, scratchImage } from "../plan/config.js";
import { planBuild } from "../plan/plan.js";
import type { BaseImageConfig, BuildPlan, PlannedStage, StageBase } from "../plan/types.js";
import { removeTemps } from "./add.js";
import { BuildCache, type CacheRecord } from "./cache.js";
import { matches } from "./copy.js";
import { FsView } from "./fsview.js";
import { GIT_SOURCE } from "./git.js";
import { LayerIndex, type LayerRef, type OpenLayer } from "./layer-index.js";
import { literalPrefix, ScanAhead } from "./scan.js";
import { ContextFs, StageFs } from "./sources.js";
import { StatCache } from "./stat-cache.js";
import { executeStep, nowIso, type StepContext, type StepOutcome } from "./steps.js";
import { typedSteps } from "./typed.js";
import type { BuildEvent, BuildOptions, ResolvedBase, StagedImage } from "./types.js";
import { platformLabel, shownStep, VertexNames } from "./vertex-names.js";

/** StageResult is a finished stage: its layers, config and the key that addresses its content. */
export interface StageResult {
  stage: PlannedStage;
  layers: LayerRef[];
  key: string;
  image: BaseImage;
  created: string;
  platform: Platform;
  parent?: Digest;
  oci: boolean;
  view: () => Promise<FsView>;
}

function epochOf(options: BuildOptions): number | undefined {
  if (options.sourceDateEpoch !== undefined) return options.sourceDateEpoch;
  const v = options.buildArgs?.SOURCE_DATE_EPOCH;
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new BuildError("INVALID_ARGUMENTS", `invalid SOURCE_DATE_EPOCH: ${v}`);
  return n;
}

/** currentStep is the id of the step whose work is running (for the progress of what it fetches). */
const currentStep = new AsyncLocalStorage<number>();

const keyOfBase = (ref: string, platform: Platform) =>
  `${ref}|${formatPlatform(normalizePlatform(platform))}`;

/**
 * Builder runs one build: it resolves base images (store, else registry), plans, then executes stages in
 * waves (a wave's stages concurrently), each step addressed by its cache key.
 */
class Builder {
  readonly store;
  readonly cache: BuildCache;
  readonly index: LayerIndex;
  readonly events: (e: BuildEvent) => void;
  readonly epoch: number | undefined;
  readonly bases = new Map<string, ResolvedBase>();
  readonly results = new Map<number, Promise<StageResult>>();
  readonly temps: string[] = [];
  lease!: BlobLease;
  plan!: BuildPlan;
  df!: Dockerfile;
  #context: Promise<ContextFs> | undefined;
  #stats: Promise<StatCache> | undefined;
  #stepId = 0;
  readonly #moved = new Map<number, { current: number; total: number | undefined }>();
  steps = 0;
  cached = 0;
  /** importedCache holds the `--cache-from` records (none without cacheFrom). */
  importedCache: ImportedCache | undefined;
  /** stageRecords are the records each stage's steps used or made, in order, for `--cache-to`. */
  readonly stageRecords = new Map<number, CacheRecord[]>();

  /** fetchBlob fetches a lazy base layer from the registry it was resolved from. */
  readonly fetchBlob: BlobFetcher | undefined;

  constructor(readonly options: EngineOptions) {
    this.store = options.store;
    this.cache = new BuildCache(options.store);
    this.fetchBlob = options.client ? blobFetcher(options.client) : undefined;
    this.index = new LayerIndex(this.openLayer, this.cache.dir);
    this.events = options.onEvent ?? (() => {});
    this.epoch = epochOf(options);
  }

  /**
   * openLayer streams a layer blob from the store; a lazy base layer (recorded, not held) is fetched
   * from its registry and verified first, under the build's lease. Only steps that read the base's
   * files get here (the view, COPY sources from a stage, /etc/passwd for --chown).
   */
  readonly openLayer: OpenLayer = (layer, signal) => {
    const lease = this.lease as BlobLease | undefined;
    const s = signal ?? this.options.signal;
    // A lazy base layer fetched for a step counts as that step's progress.
    const id = currentStep.getStore();
    const fetch = this.fetchBlob;
    const fetchBlob: BlobFetcher | undefined =
      fetch && id !== undefined ? (blob, o) => this.#counted(id, blob.size, fetch(blob, o)) : fetch;
    return this.store.openBlob(
      { digest: layer.digest, size: layer.size },
      {
        ...(lease && { lease }),
        ...(s && { signal: s }),
        ...(fetchBlob && { fetchBlob }),
      },
    );
  };

  async *#counted(id: number, size: number, source: BlobSource): AsyncIterable<Uint8Array> {
    this.transfer(id, 0, size);
    const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
      source instanceof Uint8Array ? [source] : (source as AsyncIterable<Uint8Array>);
    for await (const chunk of chunks) {
      this.transfer(id, chunk.length);
      yield chunk;
    }
  }

  /**
   * imported answers a key from the `--cache-from` records: the hit's layer is adopted (recorded as
   * fetchable from the cache, not downloaded) and the record kept in the store's cache for the next build.
   */
  async imported(key: string): Promise<CacheRecord | undefined> {
    const hit = this.importedCache?.get(key);
    if (!hit) return undefined;
    await adopt(this.store, hit, this.lease);
    await this.cache.put(hit.record).catch(() => {});
    return hit.record;
  }

  recordStep(stage: number, rec: CacheRecord): void {
    const list = this.stageRecords.get(stage) ?? [];
    list.push(rec);
    this.stageRecords.set(stage, list);
  }

  /** cacheRecords are what `--cache-to` exports: the target's chain of stages (min) or every stage (max). */
  cacheRecords(target: PlannedStage, mode: "min" | "max"): CacheRecord[] {
    if (mode === "max") return [...this.stageRecords.values()].flat();
    const out: CacheRecord[] = [];
    for (let s: PlannedStage | undefined = target; s; ) {
      out.unshift(...(this.stageRecords.get(s.index) ?? []));
      const base: StageBase = s.base;
      s = base.kind === "stage" ? this.plan.stages.find((x) => x.index === base.stage) : undefined;
    }
    return out;
  }

  nextId(): number {
    return ++this.#stepId;
  }

  /** log forwards a RUN step's output as progress events. */
  log(id: number, stream: "stdout" | "stderr", data: Buffer): void {
    this.events({ type: "log", id, stream, data });
  }

  /**
   * transfer counts bytes a step moved (an ADD download, a lazy base layer fetched) and reports the
   * step's running total: `size` is added to the expected total when a transfer starts, `bytes` as they
   * arrive. A step's total is undefined while any of its transfers has no known size.
   */
  transfer(id: number, bytes: number, size?: number | null): void {
    let t = this.#moved.get(id);
    if (!t) {
      t = { current: 0, total: 0 };
      this.#moved.set(id, t);
    }
    if (size === null) t.total = undefined;
    else if (size !== undefined && t.total !== undefined) t.total += size;
    t.current += bytes;
    this.events({
      type: "progress",
      id,
      current: t.current,
      ...(t.total !== undefined ? { total: t.total } : {}),
    });
  }

  warn(message: string): void {
    this.events({ type: "warning", message });
  }

  /**
   * context reads the build context once, when a step first needs it. The first caller may name the
   * COPY/ADD sources it will read: their files are scanned while the context is still being listed.
   */
  context(sources?: readonly string[]): Promise<ContextFs> {
    const dir = this.options.contextDir;
    if (dir === undefined) {
      return Promise.reject(new BuildError("SOURCE_NOT_FOUND", "this build has no context to copy from"));
    }
    this.#context ??= (async () => {
      const stats = await this.statCache();
      const root = resolve(dir);
      const prefixes = (sources ?? []).map(literalPrefix).filter((p) => p !== undefined);
      const ahead =
        prefixes.length > 0
          ? new ScanAhead(prefixes, (rel) => {
              return { path: fsPath(`${root}/${rel}`), known: stats.known(rel) };
            })
          : undefined;
      let sel: Awaited<ReturnType<typeof selectBuildContext>>;
      try {
        sel = await selectBuildContext({
          contextDir: dir,
          ...(this.options.dockerfilePath ? { dockerfile: this.options.dockerfilePath } : {}),
          ...(this.options.signal ? { signal: this.options.signal } : {}),
          ...(ahead ? { onEntry: (p: string, kind: string) => ahead.entry(p, kind) } : {}),
        });
      } catch (err) {
        await ahead?.finish();
        throw err;
      }
      const cfs = new ContextFs(sel.contextDir, sel.entries, stats);
      if (ahead) void cfs.adopt(ahead.finish(), prefixes).catch(() => {});
      return cfs;
    })();
    return this.#context;
  }

  /**
   * warmContext lists the context and stats and hashes the files these COPY/ADD sources name, while the
   * bases resolve and the cache imports: on a runner that never saw the context, reading it is most of a
   * build whose every step is cached. Only speed depends on it: a failure here is left for the step that
   * reads the same paths to report.
   */
  warmContext(sources: readonly string[]): Promise<void> {
    if (sources.length === 0 || this.options.contextDir === undefined) return Promise.resolve();
    return (async () => {
      const cfs = await this.context(sources);
      const found: string[] = [];
      for (const src of sources) {
        try {
          found.push(...matches(cfs, src));
        } catch {
          // a step reports a bad source itself
        }
      }
      await cfs.prehash(found);
    })().catch(() => {});
  }

  statCache(): Promise<StatCache> {
    // One file per context directory: a build loads the hashes of its own context, not of every context.
    const ctx = this.options.contextDir ?? "";
    const name = createHash("sha256").update(resolve(ctx)).digest("hex").slice(0, 32);
    this.#stats ??= StatCache.open(`${this.cache.dir}/statcache/${name}.tsv`);
    return this.#stats;
  }

  /** resolveBase finds an external image in the store, else pulls it (always with `pull`). */
  async resolveBase(ref: string, platform: Platform): Promise<ResolvedBase> {
    const k = keyOfBase(ref, platform);
    const known = this.bases.get(k);
    if (known) return known;
    let name: string;
    try {
      name = parseReference(ref).toString();
    } catch (err) {
      throw new BuildError(
        "BASE_IMAGE",
        `invalid base image name ${JSON.stringify(ref)}: ${(err as Error).message}`,
      );
    }
    const want = normalizePlatform(platform);
    const matches = (img: StoredImage) => matchesConfig(img.config, want);
    if (!this.options.pull) {
      const local = await this.store.resolve(name).catch(() => undefined);
      if (local && matches(local)) {
        const r: ResolvedBase = { image: local, source: "store" };
        this.bases.set(k, r);
        return r;
      }
    }
    const client = this.options.client;
    if (!client) {
      throw new BuildError(
        "BASE_IMAGE",
        `${ref}: not found in the local store (and no registry client to pull it)`,
      );
    }
    let pulled: StoredImage;
    const parsed = parseReference(ref);
    const started = Date.now();
    try {
      // Lazy: the manifest and config only; the layers are recorded in the store with where they
      // live and fetched when a step reads the base's files.
      const remote = await resolveImage(client, parsed, {
        platform,
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      });
      if (!matchesConfig(remote.config, want)) {
        throw new BuildError(
          "BASE_IMAGE",
          `${name}: no image for platform ${formatPlatform(want)} (it is ${formatPlatform(normalizePlatform(remote.config))})`,
        );
      }
      pulled = await copyImage(
        remote,
        storeSink(this.store, {
          // Named as docker names a pulled base, for the host's platform only: another platform's base
          // (a multi-platform build's) must not take the name from the one the host runs.
          ...(parsed.tag !== undefined &&
          formatPlatform(want) === formatPlatform(normalizePlatform(hostPlatform()))
            ? { names: [parsed.withoutDigest().toString()] }
            : {}),
          repoDigests: [parsed.name],
          lazy: true,
        }),
        this.options.signal ? { signal: this.options.signal } : {},
      );
      await new BlobSources(this.store.root)
        .record(parsed.registry, parsed.repository, [
          remote.configDigest,
          ...remote.layers.map((l) => l.digest),
        ])
        .catch(() => {});
    } catch (err) {
      if (isBuildError(err)) throw err;
      throw new BuildError(
        "BASE_IMAGE",
        `failed to resolve source metadata for ${name}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const r: ResolvedBase = { image: pulled, source: "registry", seconds: (Date.now() - started) / 1000 };
    this.bases.set(k, r);
    return r;
  }

  async view(layers: readonly LayerRef[]): Promise<FsView> {
    const v = new FsView();
    const all = await Promise.all(layers.map((l) => this.index.entries(l)));
    for (const [i, entries] of all.entries()) v.apply(entries, i);
    return v;
  }

  /** stageResult returns a stage's result, running it (once) when first asked. */
  stageResult(index: number): Promise<StageResult> {
    let p = this.results.get(index);
    if (!p) {
      const stage = this.plan.stages.find((s) => s.index === index);
      if (!stage)
        return Promise.reject(new BuildError("UNKNOWN_STAGE", `stage ${index} is not part of this build`));
      p = this.runStage(stage);
      this.results.set(index, p);
      p.catch(() => {});
    }
    return p;
  }

  /**
   * fromVertex reports a stage's base image as BuildKit's `[1/n] FROM name@digest` vertex: CACHED when
   * the store had it, else done in the time its manifest and config took to fetch.
   */
  async fromVertex(vertex: VertexNames, stage: PlannedStage, ref: string): Promise<ResolvedBase> {
    const id = this.nextId();
    const started = Date.now();
    const base = await this.resolveBase(ref, stage.platform);
    const digest = base.image.manifestDigest;
    const name = `${parseReference(ref).withoutDigest().toString()}@${digest}`;
    this.events({ type: "step", id, stage: stage.id, ...vertex.next(`FROM ${name}`, true) });
    this.events({ type: "base", stage: stage.id, ref, source: base.source, digest });
    // Not counted in `steps`: those are the Dockerfile's own steps that ran or hit the cache.
    if (base.source === "store") this.events({ type: "cached", id });
    const fetched = base.source === "store" ? 0 : (base.seconds ?? 0);
    this.events({ type: "done", id, seconds: fetched + (Date.now() - started) / 1000 });
    return base;
  }

  /** imageFs is the filesystem of an external image, for COPY --from=image. */
  async imageFs(ref: string, platform: Platform): Promise<{ fs: StageFs; key: string }> {
    const base = await this.resolveBase(ref, platform);
    const layers = layersOf(base.image);
    return {
      fs: new StageFs(await this.view(layers), layers, this.openLayer),
      key: `image:${base.image.manifestDigest}`,
    };
  }

  async runStage(stage: PlannedStage): Promise<StageResult> {
    const vertex = new VertexNames(
      this.plan.stageCount === 1 ? "" : stage.id,
      stage,
      this.options.labelPlatforms
        ? platformLabel(stage.platform, this.options.platform ?? hostPlatform())
        : undefined,
    );
    const os = stage.platform.os;
    let layers: LayerRef[];
    let image: BaseImage;
    let key: string;
    let created: string;
    let parent: Digest | undefined;
    let oci = false;
    if (stage.base.kind === "scratch") {
      layers = [];
      image = scratchImage(os);
      key = `scratch|${formatPlatform(normalizePlatform(stage.platform))}`;
      created = "";
    } else if (stage.base.kind === "stage") {
      const b = await this.stageResult(stage.base.stage);
      layers = [...b.layers];
      image = b.image;
      key = b.key;
      created = b.created;
      parent = b.parent;
      oci = b.oci;
    } else {
      const b = await this.fromVertex(vertex, stage, stage.base.ref);
      layers = layersOf(b.image);
      const c = b.image.config;
      image = {
        ...(c.config ? { config: c.config } : {}),
        ...(c.author !== undefined ? { author: c.author } : {}),
        ...(c.history ? { history: c.history } : {}),
      };
      key = `image|${b.image.manifestDigest}`;
      created = c.created ?? "";
      parent = b.image.id;
      oci = (b.image.manifest.mediaType ?? b.image.descriptor.mediaType) === MediaType.OciManifest;
    }
    const noCache =
      this.options.noCache === true ||
      (this.options.noCacheFilter ?? []).some(
        (n) => n.toLowerCase() === stage.id || n === String(stage.index),
      );
    let view: FsView | undefined;
    const ctx: StepContext = {
      builder: this,
      stage,
      get layers() {
        return layers;
      },
      view: async () => {
        view ??= await this.view(layers);
        return view;
      },
      noCache,
      stepId: 0,
    };
    const fold = foldSteps(image, stage.steps, os);
    const steps = typedSteps(stage, fold.steps);
    const history: HistoryEntry[] = [...fold.image.history];
    for (const step of steps) {
      this.options.signal?.throwIfAborted();
      // Config-only instructions (ENV, CMD, LABEL…) are no step of their own, as in BuildKit.
      const shown = shownStep(step);
      const id = shown ? this.nextId() : 0;
      ctx.stepId = id;
      if (shown) this.events({ type: "step", id, stage: stage.id, ...vertex.next(step.text) });
      const started = Date.now();
      let outcome: StepOutcome;
      try {
        outcome = await currentStep.run(id, () => executeStep(ctx, step, key));
      } catch (err) {
        throw this.locate(err, step.location);
      }
      if (shown) this.steps++;
      if (outcome.cached && shown) {
        this.cached++;
        this.events({ type: "cached", id });
      }
      key = outcome.key;
      created = outcome.created;
      if (outcome.layer) {
        layers = [...layers, outcome.layer];
        if (view && outcome.entries) view.apply(outcome.entries, layers.length - 1);
        else view = undefined;
      }
      if (step.history !== undefined) {
        // created first, as docker writes history entries; a step that changed nothing has no layer.
        const h = history[step.history]!;
        history[step.history] = {
          created: outcome.created,
          ...h,
          ...(outcome.layer === undefined ? { empty_layer: true } : {}),
        };
      }
      if (!shown) continue;
      this.events({
        type: "done",
        id,
        seconds: (Date.now() - started) / 1000,
        ...(outcome.layer ? { layer: outcome.layer.digest } : {}),
      });
    }
    const folded = fold.image;
    const finalLayers = layers;
    return {
      stage,
      layers: finalLayers,
      key,
      image: {
        config: omitEmpty(folded.config),
        ...(folded.author !== undefined ? { author: folded.author } : {}),
        history,
      },
      created,
      platform: stage.platform,
      ...(parent ? { parent } : {}),
      oci,
      view: async () => view ?? this.view(finalLayers),
    };
  }

  /** locate adds the Dockerfile line and source snippet to a step's error, as docker prints them. */
  locate(err: unknown, loc: SourceLocation): Error {
    if ((err as { name?: string }).name === "AbortError") return err as Error;
    const snippet = sourceSnippet(this.df.ast.lines.map((l) => l) as string[], loc.startLine, loc.endLine);
    const code = isBuildError(err) ? err.code : "UNSUPPORTED";
    const message = err instanceof Error ? err.message : String(err);
    const e = new BuildError(code, `${message}\n${loc.file}:${loc.startLine}\n${snippet}`.trimEnd(), {
      cause: err,
    });
    return e;
  }
}

/** matchesConfig says whether an image config is for the wanted platform (a missing variant matches any). */
function matchesConfig(c: Config, want: Platform): boolean {
  const p = normalizePlatform(c);
  return (
    p.os === want.os && p.architecture === want.architecture && (!want.variant || p.variant === want.variant)
  );
}

/** layersOf lists a stored image's layers with their diffIDs. */
export function layersOf(image: StoredImage): LayerRef[] {
  const diffIds = image.config.rootfs.diff_ids;
  return image.manifest.layers.map((l, i) => ({
    digest: l.digest,
    diffId: diffIds[i]!,
    size: l.size,
    mediaType: l.mediaType,
  }));
}

/** EngineOptions are a build's options as one platform's build gets them. */
export interface EngineOptions extends BuildOptions {
  /** labelPlatforms names every step with its stage's platform (a build of several platforms). */
  labelPlatforms?: boolean;
}

/**
 * contextSources are the build context paths the plan's COPY and ADD read (not URLs, git repositories or
 * other stages), as far as a plan made before the bases' ENV is known can tell.
 */
function contextSources(plan: BuildPlan): string[] {
  const out: string[] = [];
  for (const s of plan.stages) {
    for (const step of s.steps) {
      const ins = step.expanded;
      if (ins.kind !== "copy" && ins.kind !== "add") continue;
      if (ins.kind === "copy" && ins.from !== undefined) continue;
      for (const src of ins.sources) if (!URL_RE.test(src) && !GIT_SOURCE.test(src)) out.push(src);
    }
  }
  return out;
}

const URL_RE = /^https?:\/\//i;

/** baseRefs lists the external images a plan needs (bases and COPY --from images) with their platforms. */
function baseRefs(plan: BuildPlan): { ref: string; platform: Platform }[] {
  const out: { ref: string; platform: Platform }[] = [];
  for (const s of plan.stages) {
    if (s.base.kind === "image") out.push({ ref: s.base.ref, platform: s.platform });
  }
  return out;
}

/**
 * executeBuild executes a Dockerfile: it returns the image of the target stage with its blobs in the
 * store under the returned lease (not named: the caller tags it or exports it, then releases the lease).
 * Every step is looked up in the build cache by its key first; a hit writes nothing.
 */
export async function executeBuild(
  options: EngineOptions & { dockerfile: Uint8Array | string },
): Promise<StagedImage & { lease: BlobLease; saving: Promise<void> }> {
  const b = new Builder(options);
  const file = options.dockerfileName ?? "Dockerfile";
  b.df = parseDockerfile(
    typeof options.dockerfile === "string" ? options.dockerfile : Buffer.from(options.dockerfile),
    { file },
  );
  const planOptions = {
    buildArgs: options.buildArgs ?? {},
    ...(options.target !== undefined ? { target: options.target } : {}),
    ...(options.platform ? { targetPlatform: options.platform } : {}),
  };
  const first = planBuild(b.df, planOptions);
  // The bases, the imported cache and the context are independent: all three are read at once, the
  // context first (its scan goes to a worker as soon as the listing has a batch).
  const warming = b.warmContext(contextSources(first));
  const importing =
    options.cacheFrom && options.cacheFrom.length > 0
      ? ImportedCache.load(options.cacheFrom, {
          ...(options.client ? { client: options.client } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          warn: (m) => b.warn(m),
        })
      : undefined;
  importing?.catch(() => {});
  const configs = new Map<string, BaseImageConfig>();
  const bases = (async () => {
    for (const { ref, platform } of baseRefs(first)) {
      const base = await b.resolveBase(ref, platform);
      const c = base.image.config.config;
      configs.set(keyOfBase(ref, platform), {
        env: c?.Env ?? [],
        shell: c?.Shell ?? [],
        onBuild: c?.OnBuild ?? [],
      });
    }
  })();
  try {
    await bases;
  } catch (err) {
    await Promise.allSettled([importing, warming]);
    throw err;
  }
  b.plan = planBuild(b.df, {
    ...planOptions,
    imageConfig: (ref, platform) => configs.get(keyOfBase(ref, platform)),
  });
  b.lease = await options.store.lease();
  try {
    if (importing) b.importedCache = await importing;
    // Every stage the target needs starts now: independent stages build concurrently.
    for (const s of b.plan.stages) b.stageResult(s.index);
    const target = await b.stageResult(b.plan.target);
    const built = await writeImage(b, target);
    // The context's file hashes only serve later builds: they are written while the caches and the
    // outputs are (the caller waits for `saving` before it reports the image). Losing them costs speed.
    const saving = b
      .statCache()
      .then((c) => c.save())
      .catch((err: Error) => b.warn(`the build context's file hashes were not saved: ${err.message}`));
    await exportCaches(b, target);
    return { ...built, lease: b.lease, saving };
  } catch (err) {
    await b.lease.release();
    throw err;
  } finally {
    await Promise.allSettled([importing, warming]);
    await Promise.all(
      [...b.results.values()].map((p) =>
        p.then(
          () => undefined,
          () => undefined,
        ),
      ),
    );
    await removeTemps(b.temps);
  }
}

async function writeImage(b: Builder, r: StageResult): Promise<StagedImage> {
  const p = normalizePlatform(r.platform);
  const history = r.image.history ?? [];
  const created = b.epoch !== undefined ? nowIso(b.epoch) : r.created;
  const labels = b.options.labels ?? {};
  const own = r.image.config ?? {};
  const inline = b.options.cacheTo?.some((t) => t.type === "inline")
    ? { [INLINE_CACHE_FIELD]: portableRecords(b.cacheRecords(r.stage, "min")) }
    : {};
  const config: ImageConfig = {
    ...inline,
    architecture: p.architecture,
    ...(r.image.author !== undefined ? { author: r.image.author } : {}),
    // `build --label` applies to the final image only, over the Dockerfile's LABELs, as docker's does.
    config: Object.keys(labels).length === 0 ? own : { ...own, Labels: { ...(own.Labels ?? {}), ...labels } },
    ...(created ? { created } : {}),
    history,
    os: p.os,
    rootfs: { type: "layers", diff_ids: r.layers.map((l) => l.diffId) },
    ...(p.variant ? { variant: p.variant } : {}),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const cfg = await b.store.writeBlob(configBytes, undefined, { lease: b.lease });
  const swap: Record<string, string> = r.oci
    ? { [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip, [MediaType.DockerLayer]: MediaType.OciLayer }
    : { [MediaType.OciLayerGzip]: MediaType.DockerLayerGzip, [MediaType.OciLayer]: MediaType.DockerLayer };
  const layerType = (t: string) => swap[t] ?? t;
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: r.oci ? MediaType.OciManifest : MediaType.DockerManifest,
    config: {
      mediaType: r.oci ? MediaType.OciConfig : MediaType.DockerConfig,
      digest: cfg.digest,
      size: cfg.size,
    },
    layers: r.layers.map((l) => ({ mediaType: layerType(l.mediaType), digest: l.digest, size: l.size })),
  } as Manifest;
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 3));
  const m = await b.store.writeBlob(manifestBytes, undefined, { lease: b.lease });
  return {
    manifest,
    manifestBytes,
    manifestDigest: m.digest,
    config,
    configDigest: cfg.digest,
    ...(r.parent ? { parent: r.parent } : {}),
    platform: r.platform,
    steps: b.steps,
    cached: b.cached,
    warnings: [],
  };
}

/**
 * exportCaches writes the build's records to every `--cache-to` destination but inline (in the image
 * config already). A failed export is a warning: the image was built, and the cache ref was left whole.
 */
async function exportCaches(b: Builder, target: StageResult): Promise<void> {
  for (const to of b.options.cacheTo ?? []) {
    if (to.type === "inline") continue;
    try {
      await exportCache(to, b.cacheRecords(target.stage, to.mode ?? "min"), {
        store: b.store,
        lease: b.lease,
        ...(b.options.client ? { client: b.options.client } : {}),
        ...(b.options.signal ? { signal: b.options.signal } : {}),
      });
    } catch (err) {
      b.options.signal?.throwIfAborted();
      const where = to.type === "registry" ? to.ref : to.dest;
      b.warn(`exporting cache to ${where} failed: ${(err as Error).message}`);
    }
  }
}

export type { Builder };
