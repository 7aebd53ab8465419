import { PlainPrinter } from "./plain.js";
import { type ProgressOp, Trace } from "./trace.js";
import { TtyDisplay } from "./tty.js";

/** ProgressMode is `--progress`: a live view, plain lines, JSON events, or nothing. */
export type ProgressMode = "tty" | "plain" | "json" | "quiet";

/** progressMode resolves `auto` as docker does: the live view when `out` is a terminal, else plain lines. */
export function progressMode(flag: string | undefined, out: NodeJS.WritableStream): ProgressMode {
  if (flag === "plain" || flag === "tty" || flag === "json" || flag === "quiet") return flag;
  return (out as { isTTY?: boolean }).isTTY ? "tty" : "plain";
}

/** colorEnabled says whether a terminal view may use colors: not when NO_COLOR is set (no-color.org). */
export function colorEnabled(env: NodeJS.ProcessEnv): boolean {
  return (env.NO_COLOR ?? "") === "";
}

/** Display is where progress ops go; `close` ends the view (with the error that ended the work). */
export interface Display {
  apply(op: ProgressOp): void;
  close(error?: string): void;
}

const LAST_LOGS = 10;

/**
 * openDisplay starts the view for `mode` on `out`: the live TTY view, or BuildKit's plain lines. On
 * `close` with an error, the failed step's last output lines follow, framed as BuildKit frames them.
 */
export function openDisplay(
  mode: "tty" | "plain",
  out: NodeJS.WritableStream,
  options: { env: NodeJS.ProcessEnv; phase?: string; now?: () => number },
): Display {
  const trace = new Trace();
  const now = options.now ?? Date.now;
  const errorLogs = () => {
    for (const v of trace.vertices) {
      if (v.error === undefined || v.canceled) continue;
      let text = `------\n > ${v.name}:\n`;
      for (const l of v.logs.slice(-LAST_LOGS)) text += `${l.text}\n`;
      out.write(`${text}------\n`);
    }
  };
  if (mode === "tty") {
    const tty = new TtyDisplay(trace, out, {
      color: colorEnabled(options.env),
      now,
      ...(options.phase !== undefined && { phase: options.phase }),
    });
    return {
      apply: (op) => tty.apply(op),
      close: (error) => {
        tty.close(error);
        if (error !== undefined) errorLogs();
      },
    };
  }
  const printer = new PlainPrinter(trace, (s) => out.write(s));
  return {
    apply: (op) => printer.apply(op, now()),
    close: (error) => {
      if (error === undefined) return;
      const open = trace.vertices.filter((v) => v.completed === undefined);
      for (const [i, v] of open.entries()) {
        printer.apply(
          i === open.length - 1
            ? { op: "error", key: v.key, message: error.split("\n")[0] ?? error }
            : { op: "error", key: v.key, message: "canceled", canceled: true },
          now(),
        );
      }
      errorLogs();
    },
  };
}

/** NULL_DISPLAY shows nothing (`--quiet`, `--progress json`). */
export const NULL_DISPLAY: Display = { apply: () => {}, close: () => {} };
