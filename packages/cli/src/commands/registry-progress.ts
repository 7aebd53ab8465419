import { humanSize } from "../format/index.js";

/** ProgressMode: `plain` prints one line per state change, `tty` redraws rows in place, `json` one event per line. */
export type ProgressMode = "plain" | "tty" | "json";

export const PROGRESS_CHOICES = ["auto", "plain", "tty", "json"] as const;

/** progressMode resolves `auto` to `tty` on a terminal, else `plain` (what docker does without a TTY). */
export function progressMode(flag: string | undefined, out: NodeJS.WritableStream): ProgressMode {
  if (flag === "plain" || flag === "tty" || flag === "json") return flag;
  return (out as { isTTY?: boolean }).isTTY ? "tty" : "plain";
}

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
