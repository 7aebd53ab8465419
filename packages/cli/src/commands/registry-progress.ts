import { parseReference } from "@tsbuild/oci";
import type { Argv } from "yargs";
import { humanSize } from "../format/index.js";
import { io } from "../output.js";
import { colorEnabled } from "../progress/display.js";
import { Trace } from "../progress/trace.js";
import { TtyDisplay } from "../progress/tty.js";

/** ProgressMode: `plain` prints one line per state change, `tty` redraws rows in place, `json` one event per line. */
export type ProgressMode = "plain" | "tty" | "json";

export const PROGRESS_CHOICES = ["auto", "plain", "tty", "json"] as const;

/** progressMode resolves `auto` to `tty` on a terminal, else `plain` (what docker does without a TTY). */
export function progressMode(flag: string | undefined, out: NodeJS.WritableStream): ProgressMode {
  if (flag === "plain" || flag === "tty" || flag === "json") return flag;
  return (out as { isTTY?: boolean }).isTTY ? "tty" : "plain";
}

/** ProgressArgs are the output flags pull and push share. */
export interface ProgressArgs {
  quiet?: boolean;
  progress?: string;
}

/** progressFlags adds docker's `--quiet` and our `--progress` to pull and push. */
export function progressFlags<T>(y: Argv<T>): Argv<T & ProgressArgs> {
  return y
    .option("quiet", { alias: "q", type: "boolean", describe: "Suppress verbose output" })
    .option("progress", {
      type: "string",
      choices: PROGRESS_CHOICES,
      default: "auto",
      describe: "Progress output: a live view on a terminal, plain lines, or one JSON event per line",
    });
}

/**
 * TransferOutput is what pull and push print through: per-layer rows and
 * docker's lines for people, or one JSON object per event for machines
 * (`--progress json`); `--quiet` leaves only the final name.
 */
export class TransferOutput {
  readonly mode: ProgressMode;
  readonly rows: LayerRows;
  readonly #out: NodeJS.WritableStream;
  readonly #quiet: boolean;

  constructor(argv: ProgressArgs, out: NodeJS.WritableStream, phase?: string) {
    this.mode = progressMode(argv.progress, out);
    this.#out = out;
    this.#quiet = argv.quiet ?? false;
    this.rows = new LayerRows(
      this.#quiet ? NULL_STREAM : out,
      this.mode,
      phase !== undefined ? { phase } : {},
    );
  }

  /** human says whether docker's lines are printed (not quiet, not JSON). */
  get human(): boolean {
    return !this.#quiet && this.mode !== "json";
  }

  /** say prints one of docker's lines below the rows. */
  say(text: string): void {
    if (this.human) this.rows.line(text);
  }

  /** events hands each event to `render`, or prints it as JSON in JSON mode. */
  events<E>(render: (e: E) => void): (e: E) => void {
    if (this.mode !== "json") return render;
    return (e) => {
      if (!this.#quiet) this.#out.write(`${JSON.stringify(e)}\n`);
    };
  }

  /** result ends a transfer: the JSON object in JSON mode, else `line` (when given). */
  result(json: Record<string, unknown>, line?: string): void {
    this.rows.finish();
    if (this.mode === "json") this.#out.write(`${JSON.stringify(json)}\n`);
    else if (line !== undefined) this.#out.write(`${line}\n`);
  }
}

/** usesDefaultTag says whether `name` has neither tag nor digest, so docker prints `Using default tag: latest`. */
export function usesDefaultTag(name: string): boolean {
  const ref = parseReference(name, { defaultTag: false });
  return ref.tag === undefined && ref.digest === undefined;
}

/** NULL_STREAM swallows output (`--quiet`). */
const NULL_STREAM = { write: () => true } as unknown as NodeJS.WritableStream;

const BAR = 50;

/** progressBar is docker's `[=====>    ]  25.1MB/70.2MB`. */
export function progressBar(current: number, total: number): string {
  const filled = total > 0 ? Math.min(BAR, Math.floor((current / total) * BAR)) : 0;
  const bar = filled === 0 ? " ".repeat(BAR) : `${"=".repeat(filled - 1)}>${" ".repeat(BAR - filled)}`;
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** FINAL are the states after which a layer's row does not change (docker's last word on a layer). */
const FINAL = ["Pull complete", "Already exists", "Pushed", "Layer already exists", "Loaded", "Saved"];

/**
 * LayerRows renders per-layer status lines the way docker's pull and push
 * do. In `plain` mode every status change is a new line and byte counts are
 * not printed; in `tty` mode each layer is a row of the live view builds use
 * (progress/tty.ts), repainted in place ten times a second, with a bar,
 * bytes and rate while it transfers and its time at the right edge.
 */
export class LayerRows {
  readonly #out: NodeJS.WritableStream;
  readonly #tty: boolean;
  readonly #phase: string;
  readonly #last = new Map<string, string>();
  readonly #verbs = new Map<string, string>();
  #view: { trace: Trace; display: TtyDisplay } | undefined;

  constructor(out: NodeJS.WritableStream, mode: ProgressMode, options: { phase?: string } = {}) {
    this.#out = out;
    this.#tty = mode === "tty";
    this.#phase = options.phase ?? "Transferring";
  }

  /** status sets a layer's state (`Pull complete`); in tty mode it replaces the row. */
  status(id: string, text: string): void {
    if (!this.#tty) {
      if (this.#last.get(id) === text) return;
      this.#last.set(id, text);
      this.#out.write(`${id}: ${text}\n`);
      return;
    }
    const view = this.#open();
    const verb = this.#verbs.get(id);
    if (verb !== undefined)
      view.display.apply({ op: "status", key: id, id: verb, done: true, ifExists: true });
    view.display.apply({ op: "start", key: id, name: `${id}: ${text}` });
    if (FINAL.includes(text) || text.startsWith("Mounted from ")) view.display.apply({ op: "done", key: id });
  }

  /** bytes shows transfer progress (tty only; plain output stays line-per-state like docker's). */
  bytes(id: string, verb: string, current: number, total: number): void {
    if (!this.#tty) return;
    const view = this.#open();
    this.#verbs.set(id, verb);
    view.display.apply({ op: "start", key: id, name: `${id}: ${verb}` });
    view.display.apply({ op: "status", key: id, id: verb, current, total });
  }

  /** line prints a line below the rows (rows above it are final from then on). */
  line(text: string): void {
    this.finish();
    this.#out.write(`${text}\n`);
  }

  /** finish draws the final state and stops redrawing. */
  finish(): void {
    this.#view?.display.close();
    this.#view = undefined;
    this.#verbs.clear();
  }

  #open(): { trace: Trace; display: TtyDisplay } {
    if (!this.#view) {
      const trace = new Trace();
      const color = colorEnabled(io().env);
      this.#view = {
        trace,
        display: new TtyDisplay(trace, this.#out, { color, phase: this.#phase, bars: true }),
      };
    }
    return this.#view;
  }
}
