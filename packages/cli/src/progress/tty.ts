import {
  duration,
  type ProgressOp,
  rateText,
  type StatusState,
  statusText,
  type Trace,
  type VertexState,
} from "./trace.js";

/** ScreenOptions are what a repaint knows besides the trace. */
export interface ScreenOptions {
  now: number;
  width: number;
  height: number;
  color: boolean;
  /** final is the last repaint: every line, and FINISHED when all is done. */
  final: boolean;
  /** phase is the header's verb (`Building`, BuildKit's default). */
  phase?: string;
  /** bars draws a transfer's bar on its own line (pull, push, load, save: one status per vertex). */
  bars?: boolean;
}

/** LOG_LINES is how many of a running step's last output lines show (BuildKit's termHeightMin). */
export const LOG_LINES = 6;
/** TERM_PAD is how much narrower than the screen a step's output is shown (BuildKit's termPad). */
const TERM_PAD = 10;

const SGR = {
  blue: "\x1b[34m",
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  faint: "\x1b[2m",
  reset: "\x1b[0m",
};

interface Line {
  text: string;
  color?: string;
  /** done lines may scroll away while the screen is short of rows. */
  done: boolean;
}

/** timed is BuildKit's job line: ` => NAME [STATUS]` padded so ` 1.2s` ends one column short of the edge. */
function timed(name: string, status: string, seconds: number, width: number): string | undefined {
  const timer = ` ${(seconds < 0.05 ? 0 : seconds).toFixed(1)}s`;
  let left = width - 4 - timer.length - 2;
  let showStatus = false;
  if (status !== "" && left + status.length > 20) {
    showStatus = true;
    left -= status.length + 1;
  }
  if (left < 12) return undefined; // too narrow to show anything useful
  let out = ` => ${name.length > left ? name.slice(0, left) : name}`;
  if (showStatus) out += ` ${status}`;
  return `${out.padEnd(width - timer.length - 2)} ${timer}`;
}

/**
 * screen is the TTY view of a trace as lines, BuildKit's ttyDisplay: a `[+] Building 3.2s (5/7)`
 * header, a line per vertex (`CACHED`/`ERROR` before the name, the time at the right edge), a line
 * per status under it, and the last lines of a running vertex's output (` => => # …`). While the
 * screen is shorter than the view, finished lines scroll off first.
 */
export function screen(trace: Trace, o: ScreenOptions): string[] {
  const { completed, total } = trace.counts();
  const elapsed = trace.started === undefined ? 0 : (o.now - trace.started) / 1000;
  const finished = o.final && completed > 0 && completed === total ? " FINISHED" : "";
  const header = `[+] ${o.phase ?? "Building"} ${elapsed.toFixed(1)}s (${completed}/${total})${finished}`;
  const lines: Line[] = [];
  for (const v of trace.vertices) lines.push(...vertexLines(v, o));
  let shown = lines;
  if (!o.final && lines.length > o.height - 2) {
    // Keep every running line; drop the oldest finished ones until the view fits.
    let drop = lines.length - Math.max(0, o.height - 2);
    shown = lines.filter((l) => !(l.done && drop-- > 0));
  }
  const paint = (l: Line) => (o.color && l.color ? `${l.color}${l.text}${SGR.reset}` : l.text);
  return [header.slice(0, o.width - 1), ...shown.map(paint)];
}

function vertexLines(v: VertexState, o: ScreenOptions): Line[] {
  const out: Line[] = [];
  const done = v.completed !== undefined;
  const prefix = v.canceled ? "CANCELED " : v.error !== undefined ? "ERROR " : v.cached ? "CACHED " : "";
  const inline = o.bars === true && v.statuses.length === 1 ? v.statuses[0] : undefined;
  const transfer = inline && !done && inline.completed === undefined ? barText(inline) : "";
  const main = timed(prefix + v.name.replaceAll("\t", " "), transfer, duration(v, o.now), o.width);
  if (main === undefined) return out;
  const color = !done ? undefined : v.canceled ? SGR.yellow : v.error !== undefined ? SGR.red : SGR.blue;
  out.push({ text: main, ...(color && { color }), done });
  for (const s of inline ? [] : v.statuses) {
    const status = [statusText(s), rateText(s)].filter(Boolean).join(" ");
    const line = timed(`=> ${s.id}`, status, ((s.completed ?? o.now) - s.started) / 1000, o.width);
    const sdone = s.completed !== undefined;
    if (line !== undefined) out.push({ text: line, ...(sdone && { color: SGR.blue }), done: sdone || done });
  }
  if (!done) {
    const logs = v.logs.map((l) => l.text);
    if (v.partial !== "") logs.push(v.partial);
    const room = Math.max(1, o.width - TERM_PAD);
    for (const text of logs.slice(-LOG_LINES)) {
      const clean = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replaceAll("\t", "    ");
      if (clean.trim() === "") continue;
      out.push({ text: ` => => # ${clean.slice(0, room)}`, color: SGR.faint, done: false });
    }
  }
  return out;
}

const BAR = 12;

/** barText is a transfer's bar, bytes and rate: `[=====>        ] 1.20MB / 3.40MB 5.10MB/s`. */
export function barText(s: StatusState): string {
  let bar = "";
  if (s.total) {
    const filled = Math.min(BAR, Math.floor((s.current / s.total) * BAR));
    bar = `[${filled === 0 ? " ".repeat(BAR) : `${"=".repeat(filled - 1)}>${" ".repeat(BAR - filled)}`}] `;
  }
  return `${bar}${[statusText(s), rateText(s)].filter(Boolean).join(" ")}`;
}

/** TtyOptions configure the live view. */
export interface TtyOptions {
  color: boolean;
  phase?: string;
  /** now is the clock (tests pass their own). */
  now?: () => number;
  /** intervalMs is the repaint period (BuildKit's is 100 ms). */
  intervalMs?: number;
  bars?: boolean;
}

/**
 * TtyDisplay paints `screen` on a terminal and repaints it in place about ten times a second: the
 * cursor goes up over the previous paint, each line is rewritten and erased to its end, and leftover
 * lines of a longer paint are blanked. `close` repaints everything one last time.
 */
export class TtyDisplay {
  readonly #trace: Trace;
  readonly #out: NodeJS.WritableStream & { columns?: number; rows?: number };
  readonly #options: TtyOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #lines = 0;
  #closed = false;

  constructor(trace: Trace, out: NodeJS.WritableStream, options: TtyOptions) {
    this.#trace = trace;
    this.#out = out;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  apply(op: ProgressOp): void {
    if (this.#closed) return;
    this.#trace.apply(op, this.#now());
    if (!this.#timer) {
      this.#paint(false);
      this.#timer = setInterval(() => this.#paint(false), this.#options.intervalMs ?? 100);
      this.#timer.unref();
    }
  }

  /** close stops repainting and paints the final view (with the build's error on the running steps). */
  close(error?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (error !== undefined) this.#trace.fail(error, this.#now());
    if (this.#trace.vertices.length > 0) this.#paint(true);
  }

  #paint(final: boolean): void {
    const width = Math.max(20, this.#out.columns ?? 80);
    const height = Math.max(4, this.#out.rows ?? 24);
    const lines = screen(this.#trace, {
      now: this.#now(),
      width,
      height,
      color: this.#options.color,
      final,
      ...(this.#options.phase !== undefined && { phase: this.#options.phase }),
      ...(this.#options.bars && { bars: true }),
    });
    let s = "\x1b[?25l";
    if (this.#lines > 0) s += `\x1b[${this.#lines}A`;
    s += "\r";
    for (const l of lines) s += `${l}\x1b[K\n`;
    const extra = this.#lines - lines.length;
    if (extra > 0) s += `${"\x1b[2K\n".repeat(extra)}\x1b[${extra}A`;
    s += "\x1b[?25h";
    this.#lines = lines.length;
    this.#out.write(s);
  }
}
