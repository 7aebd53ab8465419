import { type ProgressOp, statusText, type Trace, type VertexState } from "./trace.js";

/** logTime is BuildKit's log prefix: seconds since the vertex started, 3 decimals under 10s, 2 under 100. */
export function logTime(ms: number): string {
  const s = ms / 1000;
  return s.toFixed(s < 10 ? 3 : s < 100 ? 2 : 1);
}

const MIN_DELTA = 0.05;
const MIN_MS = 5000;

/**
 * PlainPrinter writes BuildKit's plain progress (progressui's textMux) as ops arrive: a blank line and
 * `#N NAME` when a vertex starts or output switches to it (`#N ...` for the one left running), then
 * `#N 0.512 output`, `#N sha256:… 1.20MB / 3.40MB 0.3s done`, and `#N CACHED`, `#N DONE 0.3s` or
 * `#N ERROR: …`. Byte counts print at most every 5% or 5 seconds. No escape codes, ever.
 */
export class PlainPrinter {
  readonly #trace: Trace;
  readonly #write: (s: string) => void;
  #current: VertexState | undefined;
  #first = true;
  readonly #lastStatus = new Map<string, { current: number; at: number }>();
  readonly #printed = new Map<string, number>();

  constructor(trace: Trace, write: (s: string) => void) {
    this.#trace = trace;
    this.#write = write;
  }

  /** apply records `op` in the trace and prints what changed. */
  apply(op: ProgressOp, now: number): void {
    const v = this.#trace.apply(op, now);
    if (op.op === "warning") {
      this.#leave();
      this.#write(`WARNING: ${op.message}\n`);
      return;
    }
    if (!v) return;
    switch (op.op) {
      case "start":
        this.#enter(v);
        break;
      case "log": {
        if (v.logs.length === (this.#printed.get(v.key) ?? 0)) return;
        this.#enter(v);
        this.#logs(v);
        break;
      }
      case "status": {
        const s = v.statuses.find((x) => x.id === op.id);
        if (!s) return;
        const key = `${v.key}\0${s.id}`;
        const last = this.#lastStatus.get(key);
        if (last && s.completed === undefined) {
          const delta = s.total ? (s.current - last.current) / s.total : 0;
          if (delta < MIN_DELTA && now - last.at < MIN_MS) return;
        }
        this.#lastStatus.set(key, { current: s.current, at: now });
        this.#enter(v);
        const b = statusText(s);
        const end = s.completed ?? now;
        const tm = end - s.started > 10 ? ` ${((end - s.started) / 1000).toFixed(1)}s` : "";
        this.#write(
          `#${v.index} ${s.id}${b ? ` ${b}` : ""}${tm}${s.completed !== undefined ? " done" : ""}\n`,
        );
        break;
      }
      case "done":
      case "error":
        this.#enter(v);
        this.#logs(v);
        if (v.error !== undefined) {
          this.#write(v.canceled ? `#${v.index} CANCELED\n` : `#${v.index} ERROR: ${v.error}\n`);
        } else if (v.cached) {
          this.#write(`#${v.index} CACHED\n`);
        } else {
          const seconds = v.seconds ?? ((v.completed ?? now) - v.started) / 1000;
          this.#write(`#${v.index} DONE ${seconds.toFixed(1)}s\n`);
        }
        this.#current = undefined;
        break;
      case "cached":
        break;
    }
  }

  #logs(v: VertexState): void {
    for (const l of v.logs.slice(this.#printed.get(v.key) ?? 0)) {
      this.#write(`#${v.index} ${logTime(l.at)} ${l.text}\n`);
    }
    this.#printed.set(v.key, v.logs.length);
  }

  #leave(): void {
    const cur = this.#current;
    if (cur && cur.completed === undefined) this.#write(`#${cur.index} ...\n`);
    this.#current = undefined;
  }

  #enter(v: VertexState): void {
    if (this.#current === v) return;
    this.#leave();
    if (!this.#first) this.#write("\n");
    this.#first = false;
    this.#write(`#${v.index} ${v.name}\n`);
    this.#current = v;
  }
}
