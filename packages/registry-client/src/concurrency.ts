/**
 * mapLimit runs `fn` over `items` with at most `limit` calls in flight and
 * resolves with the results in input order. It rejects with the first
 * failure in time (not the first in input order: the calls a caller aborts
 * because of that failure fail later, with its reason or an abort error)
 * only after the calls in flight have ended (so a caller can clean up what
 * they wrote); calls not yet started are skipped. Abort a shared AbortSignal
 * in `fn`'s catch to stop the others early.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let first: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        first ??= { error: err };
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.allSettled(workers);
  if (first) throw first.error;
  return results;
}
