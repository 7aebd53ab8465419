import type { PlannedStage } from "../plan/types.js";
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
  #index = 0;

  constructor(label: string, stage: PlannedStage) {
    this.#label = label;
    const counted = stage.steps.filter((s) => s.onbuild === true || VERTEX_KINDS.has(s.expanded.kind));
    this.#total = (stage.base.kind === "image" ? 1 : 0) + counted.length;
  }

  /** next names the next vertex: its index, the total and the name to show. */
  next(text: string): { index: number; total: number; text: string; name: string } {
    const index = ++this.#index;
    const width = String(this.#total).length;
    const prefix = this.#label === "" ? "" : `${this.#label} `;
    const name = `[${prefix}${String(index).padStart(width)}/${this.#total}] ${text}`;
    return { index, total: this.#total, text, name };
  }
}

/** shownStep says whether a step is a vertex of its own (WORKDIR / makes none, config instructions none). */
export function shownStep(step: ExecStep): boolean {
  if (step.kind === "workdir") return step.path !== "/";
  return step.kind !== "config";
}
