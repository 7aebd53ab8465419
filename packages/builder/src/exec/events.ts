import type { BuildEvent } from "./types.js";

/**
 * EventQueue holds a build's events until they are read: one reader takes them in order, from the
 * first, and its loop ends when the build does (with the build's error, if it failed).
 */
export class EventQueue implements AsyncIterable<BuildEvent> {
  readonly #events: BuildEvent[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #error: unknown;
  #failed = false;
  #taken = false;

  push(event: BuildEvent): void {
    if (this.#ended) return;
    this.#events.push(event);
    this.#notify();
  }

  /** end closes the queue; a reader sees the events already queued, then `error` when given. */
  end(error?: unknown, failed = false): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#failed = failed;
    this.#notify();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<BuildEvent> {
    if (this.#taken) throw new TypeError("a build's events can be read once");
    this.#taken = true;
    for (;;) {
      const e = this.#events.shift();
      if (e !== undefined) {
        yield e;
        continue;
      }
      if (this.#ended) {
        if (this.#failed) throw this.#error;
        return;
      }
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
  }
}
