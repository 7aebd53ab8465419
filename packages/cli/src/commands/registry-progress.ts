import { parseReference } from "@tsbuild/oci";
import type { Argv } from "yargs";
import { humanSize } from "../format/index.js";

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

  constructor(argv: ProgressArgs, out: NodeJS.WritableStream) {
    this.mode = progressMode(argv.progress, out);
    this.#out = out;
    this.#quiet = argv.quiet ?? false;
    this.rows = new LayerRows(this.#quiet ? NULL_STREAM : out, this.mode);
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

/**
 * LayerRows renders per-layer status lines the way docker's pull and push
 * do. In `plain` mode every status change is a new line and byte counts are
 * not printed; in `tty` mode each layer keeps one row that is redrawn in
 * place (at most every 100 ms for byte counts) with a progress bar.
 */
export class LayerRows {
  readonly #out: NodeJS.WritableStream;
  readonly #tty: boolean;
  readonly #rows = new Map<string, string>();
  readonly #last = new Map<string, string>();
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(out: NodeJS.WritableStream, mode: ProgressMode) {
    this.#out = out;
    this.#tty = mode === "tty";
  }

  /** status sets a layer's state (`Pull complete`); in tty mode it replaces the row. */
  status(id: string, text: string): void {
    if (!this.#tty) {
      if (this.#last.get(id) === text) return;
      this.#last.set(id, text);
      this.#out.write(`${id}: ${text}\n`);
      return;
    }
    this.#rows.set(id, text);
    this.#redraw();
  }

  /** bytes shows transfer progress (tty only; plain output stays line-per-state like docker's). */
  bytes(id: string, verb: string, current: number, total: number): void {
    if (!this.#tty) return;
    this.#rows.set(id, `${verb} ${progressBar(current, total)}`);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#redraw();
    }, 100);
  }

  /** line prints a line below the rows (rows above it are final from then on). */
  line(text: string): void {
    this.finish();
    this.#out.write(`${text}\n`);
  }

  /** finish draws the final state and stops redrawing. */
  finish(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#tty && this.#rows.size > 0) this.#redraw();
    this.#rows.clear();
    this.#drawn = 0;
  }

  #redraw(): void {
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const [id, row] of this.#rows) text += `\x1b[2K${id}: ${row}\n`;
    this.#drawn = this.#rows.size;
    this.#out.write(text);
  }
}
