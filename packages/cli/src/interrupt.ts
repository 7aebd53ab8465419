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
  const handler = (sig: NodeJS.Signals) => {
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
