let received: NodeJS.Signals | undefined;

/**
 * interruptExitCode is the exit code for a command that a signal stopped:
 * 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM), the status a
 * shell reports for docker killed by that signal; undefined when none came
 * since the last onInterrupt().
 */
export function interruptExitCode(): number | undefined {
  if (received === undefined) return undefined;
  return received === "SIGINT" ? 130 : 143;
}

/** clearInterrupt forgets the signal once its command has ended (run() is called again in-process by tests and pipelines). */
export function clearInterrupt(): void {
  received = undefined;
}

/** Interrupt is an AbortSignal that fires on SIGINT/SIGTERM while a command runs. */
export interface Interrupt {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * onInterrupt turns Ctrl-C (and SIGTERM) into an abort, so long registry
 * work stops cleanly: a pull deletes what it wrote instead of being killed
 * mid-write. A second signal is left to the default handler. Call dispose()
 * when the command ends.
 */
export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  received = undefined;
  const handler = (sig: NodeJS.Signals) => {
    received = sig;
    dispose();
    controller.abort(new Error(sig === "SIGINT" ? "interrupted" : "terminated"));
  };
  const dispose = () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return { signal: controller.signal, dispose };
}
