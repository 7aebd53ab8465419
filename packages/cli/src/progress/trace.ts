/**
 * ProgressOp is one change to what a progress view shows, in BuildKit's terms: a vertex (a build step,
 * an export, a pull) starts, logs, reports statuses (bytes of a layer, a name being written), and
 * completes cached, done, or with an error. Builds, pulls, pushes, saves and loads all report through
 * these, so every progress view renders them the same way.
 */
export type ProgressOp =
  | { op: "start"; key: string; name: string }
  | { op: "cached"; key: string }
  /** seconds, when given, is the vertex's own measure of its duration (else the time between events). */
  | { op: "done"; key: string; seconds?: number }
  | { op: "error"; key: string; message: string; canceled?: boolean }
  | { op: "log"; key: string; data: string }
  /** ifExists updates a status only when the vertex already has it (never adds one). */
  | {
      op: "status";
      key: string;
      id: string;
      current?: number;
      total?: number;
      done?: boolean;
      ifExists?: boolean;
    }
  | { op: "warning"; message: string };

/** StatusState is one named sub-line of a vertex (`sha256:ab12… 1.2MB / 3.4MB`, `naming to …`). */
export interface StatusState {
  id: string;
  current: number;
  total?: number;
  started: number;
  completed?: number;
  /** rate is bytes per second over the status's life so far. */
  rate?: number;
}

/** VertexState is one line of the view and what hangs under it. */
export interface VertexState {
  key: string;
  name: string;
  /** index is BuildKit's `#N`: vertices are numbered in the order they start. */
  index: number;
  started: number;
  completed?: number;
  seconds?: number;
  cached: boolean;
  error?: string;
  canceled?: boolean;
  /** logs are the complete output lines, each with its time since the vertex started. */
  logs: { at: number; text: string }[];
  partial: string;
  statuses: StatusState[];
}

/**
 * Trace is the pure state of a progress view: ops in, vertices out. Time is passed in (`now` in
 * milliseconds), so a test replays ops at chosen times and gets the same screen every run.
 */
export class Trace {
  readonly vertices: VertexState[] = [];
  readonly warnings: string[] = [];
  readonly #byKey = new Map<string, VertexState>();
  started: number | undefined;

  get(key: string): VertexState | undefined {
    return this.#byKey.get(key);
  }

  /** apply records `op` at time `now` and returns the vertex it touched (none for a warning). */
  apply(op: ProgressOp, now: number): VertexState | undefined {
    this.started ??= now;
    if (op.op === "warning") {
      this.warnings.push(op.message);
      return undefined;
    }
    let v = this.#byKey.get(op.key);
    if (!v) {
      v = {
        key: op.key,
        name: op.op === "start" ? op.name : op.key,
        index: this.vertices.length + 1,
        started: now,
        cached: false,
        logs: [],
        partial: "",
        statuses: [],
      };
      this.#byKey.set(op.key, v);
      this.vertices.push(v);
    }
    switch (op.op) {
      case "start":
        v.name = op.name;
        break;
      case "cached":
        v.cached = true;
        break;
      case "done":
        this.#flush(v, now);
        v.completed = now;
        if (op.seconds !== undefined) v.seconds = op.seconds;
        break;
      case "error":
        this.#flush(v, now);
        v.completed ??= now;
        v.error = op.message;
        if (op.canceled) v.canceled = true;
        break;
      case "log": {
        const lines = (v.partial + op.data).split("\n");
        v.partial = lines.pop() ?? "";
        for (const text of lines) v.logs.push({ at: now - v.started, text: text.replace(/\r$/, "") });
        break;
      }
      case "status": {
        let s = v.statuses.find((x) => x.id === op.id);
        if (!s && op.ifExists) return undefined;
        if (!s) {
          s = { id: op.id, current: 0, started: now };
          v.statuses.push(s);
        }
        if (op.current !== undefined) s.current = op.current;
        if (op.total !== undefined) s.total = op.total;
        if (now > s.started && s.current > 0) s.rate = (s.current * 1000) / (now - s.started);
        if (op.done) s.completed = now;
        break;
      }
    }
    return v;
  }

  /** fail ends every vertex still running: the newest with the build's error, the others canceled. */
  fail(message: string, now: number): void {
    const open = this.vertices.filter((v) => v.completed === undefined);
    for (const [i, v] of open.entries()) {
      this.apply(
        i === open.length - 1
          ? { op: "error", key: v.key, message }
          : { op: "error", key: v.key, message: "canceled", canceled: true },
        now,
      );
    }
  }

  /** counts are BuildKit's header numbers: vertices completed of those started. */
  counts(): { completed: number; total: number } {
    return {
      completed: this.vertices.filter((v) => v.completed !== undefined).length,
      total: this.vertices.length,
    };
  }

  #flush(v: VertexState, now: number): void {
    if (v.partial !== "") v.logs.push({ at: now - v.started, text: v.partial });
    v.partial = "";
  }
}

/** duration is a vertex's time in seconds: its own measure when done, else the time it has run. */
export function duration(v: VertexState, now: number): number {
  if (v.seconds !== undefined && v.completed !== undefined) return v.seconds;
  return ((v.completed ?? now) - v.started) / 1000;
}

/** bytes formats a byte count as BuildKit does (go-units, decimal): `84B`, `2.10kB`, `3.40MB`. */
export function bytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let x = n;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return i === 0 ? `${n}B` : `${x.toFixed(2)}${units[i]}`;
}

/** statusText is a status's byte counts: `1.20MB / 3.40MB`, or `1.20MB` without a total. */
export function statusText(s: StatusState): string {
  if (s.total) return `${bytes(s.current)} / ${bytes(s.total)}`;
  return s.current ? bytes(s.current) : "";
}

/** rateText is a running transfer's speed (`5.10MB/s`), empty when unknown or finished. */
export function rateText(s: StatusState): string {
  return s.rate && s.completed === undefined ? `${bytes(Math.round(s.rate))}/s` : "";
}
