import type { Readable } from "node:stream";

/**
 * readAhead iterates a Readable's chunks as they arrive, reading up to
 * `limit` bytes ahead of the consumer, so a download keeps receiving while
 * the consumer waits on disk writes. It uses flowing mode on purpose: a
 * Readable's own async iterator reads in paused mode, where every read()
 * concatenates all buffered chunks into a new Buffer (a copy of the whole
 * download and GC pressure, as profiling the pull showed). Here chunks are
 * handed over as they came. A stream error reaches the consumer after the
 * chunks before it, a stream closed before its end is an error too, and
 * when the consumer stops early the stream is destroyed.
 */
export async function* readAhead(stream: Readable, limit: number): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let head = 0;
  let queued = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const onData = (chunk: Buffer) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= limit) stream.pause();
    notify();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (error: unknown) => {
    failure ??= { error };
    notify();
  };
  const onClose = () => {
    if (!ended) failure ??= { error: new Error("the stream closed before its end") };
    notify();
  };
  stream.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  try {
    for (;;) {
      if (head < queue.length) {
        const chunk = queue[head] as Buffer;
        queue[head++] = undefined as unknown as Buffer;
        if (head > 1024) {
          queue.splice(0, head);
          head = 0;
        }
        queued -= chunk.length;
        // Resume at half the limit, not on every chunk, so the stream does not toggle per read.
        if (queued <= limit / 2 && stream.isPaused()) stream.resume();
        yield chunk;
        continue;
      }
      if (failure) throw failure.error;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
    if (!ended) stream.on("error", () => {}).destroy();
  }
}
