/** counted passes `source` through, telling `onBytes` how many bytes have gone by after each chunk. */
export async function* counted(
  source: AsyncIterable<Uint8Array>,
  onBytes: (current: number) => void,
): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    onBytes(n);
    yield chunk;
  }
}
