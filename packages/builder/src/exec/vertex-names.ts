import { normalizePlatform, type Platform } from "@tsbuild/oci";
import type { PlannedStage } from "../plan/types.js";
import { displayPlatform } from "../run/emulation.js";
import type { ExecStep } from "./typed.js";

const VERTEX_KINDS = new Set(["copy", "add", "run", "workdir"]);

/**
 * VertexNames numbers a stage's steps as BuildKit's Dockerfile frontend names its vertices
 * (prefixCommand): `[name i/n] TEXT`, the stage's name or `stage-N` (none when the Dockerfile has one
 * stage), the index right-aligned to the total's width. The total counts FROM an image, every COPY, ADD,
 * RUN and WORKDIR, and every ONBUILD trigger (config ones too: BuildKit's count includes them).
 */
export class VertexNames {
  readonly #label: string;
  readonly #total: number;
  readonly #platform: PlatformLabel | undefined;
  #index = 0;

  /** `platform` prefixes the names in a build of several platforms. */
  constructor(label: string, stage: PlannedStage, platform?: PlatformLabel) {
    this.#label = label;
    this.#platform = platform;
    const counted = stage.steps.filter((s) => s.onbuild === true || VERTEX_KINDS.has(s.expanded.kind));
    this.#total = (stage.base.kind === "image" ? 1 : 0) + counted.length;
  }

  /** next names the next vertex (`from`: the stage's FROM): its index, the total and the name to show. */
  next(text: string, from = false): { index: number; total: number; text: string; name: string } {
    const index = ++this.#index;
    const width = String(this.#total).length;
    const p = this.#platform;
    const prefix = [p ? `${p.stage}${from ? "" : p.cross}` : "", this.#label]
      .filter((x) => x !== "")
      .map((x) => `${x} `)
      .join("");
    const name = `[${prefix}${String(index).padStart(width)}/${this.#total}] ${text}`;
    return { index, total: this.#total, text, name };
  }
}

/**
 * PlatformLabel is how BuildKit names a stage's platform in a build of several (prefixCommand): the
 * stage's platform, and for its steps after FROM `->ARCH` (`->os/arch` across systems) when the target
 * platform differs, as a `FROM --platform=$BUILDPLATFORM` stage cross-compiling shows.
 */
export interface PlatformLabel {
  stage: string;
  cross: string;
}

/** platformLabel labels a stage built on `stage` for the target platform `target`. */
export function platformLabel(stage: Platform, target: Platform): PlatformLabel {
  const s = normalizePlatform(stage);
  const t = normalizePlatform(target);
  let cross = "";
  if (t.os !== s.os) cross = `->${displayPlatform(t)}`;
  else if (t.architecture !== s.architecture) cross = `->${displayPlatform(t).slice(t.os.length + 1)}`;
  return { stage: displayPlatform(s), cross };
}

/** shownStep says whether a step is a vertex of its own (WORKDIR / makes none, config instructions none). */
export function shownStep(step: ExecStep): boolean {
  if (step.kind === "workdir") return step.path !== "/";
  return step.kind !== "config";
}
