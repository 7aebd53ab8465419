/**
 * readAhead pulls from `source` on its own, up to `limit` bytes ahead of the
 * consumer, so a download keeps receiving while the consumer waits on disk
 * writes. Unlike a PassThrough with a big highWaterMark it hands chunks over
 * as they came, never concatenating them (a copy and GC pressure per read, as
 * profiling the pull showed). A source error reaches the consumer after the
 * chunks before it; when the consumer stops early the source is closed.
 */
export async function* readAhead<T extends { length: number }>(
  source: AsyncIterable<T>,
  limit: number,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const queue: T[] = [];
  let head = 0;
  let queued = 0;
  let finished = false;
  let failure: { error: unknown } | undefined;
  let stopped = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const notifyConsumer = () => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  const notifyProducer = () => {
    wakeProducer?.();
    wakeProducer = undefined;
  };

  const pump = async (): Promise<void> => {
    try {
      while (!stopped) {
        if (queued >= limit) {
          await new Promise<void>((resolve) => {
            wakeProducer = resolve;
          });
          continue;
        }
        const next = await iterator.next();
        if (next.done) break;
        queue.push(next.value);
        queued += next.value.length;
        notifyConsumer();
      }
      if (stopped) await iterator.return?.();
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      notifyConsumer();
    }
  };
  const pumping = pump();

  try {
    for (;;) {
      if (head < queue.length) {
        const chunk = queue[head] as T;
        queue[head++] = undefined as unknown as T;
        if (head > 1024) {
          queue.splice(0, head);
          head = 0;
        }
        queued -= chunk.length;
        notifyProducer();
        yield chunk;
        continue;
      }
      if (failure) throw failure.error;
      if (finished) return;
      await new Promise<void>((resolve) => {
        wakeConsumer = resolve;
      });
    }
  } finally {
    stopped = true;
    notifyProducer();
    // The producer may be waiting on the network; it closes the source when that settles.
    pumping.catch(() => {});
  }
}
