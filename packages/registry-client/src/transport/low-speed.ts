import { type Readable, Transform } from "node:stream";

/** SpeedFloor is a minimum rate: at least `bytesPerSecond` over every `windowMs`. */
export interface SpeedFloor {
  bytesPerSecond: number;
  windowMs: number;
}

/**
 * SpeedWatch fails a transfer that moves fewer than the floor's bytes in a
 * window, as curl's `--speed-limit/--speed-time`. A window in which our own
 * reader was behind (the bytes were there, we did not take them) starts
 * over: only the other side's slowness counts. A floor of 0 bytes/s still
 * fails a window with no byte at all.
 */
class SpeedWatch {
  readonly #floor: SpeedFloor;
  readonly #need: number;
  readonly #fail: () => boolean;
  #bytes = 0;
  #mark = 0;
  #start = 0;
  #timer: NodeJS.Timeout | undefined;
  #due = 0;
  #stopped = false;

  /** fail is called when a window falls short; it returns false when the shortfall was ours after all. */
  constructor(floor: SpeedFloor, fail: () => boolean) {
    this.#floor = floor;
    this.#need = Math.max(1, Math.ceil((floor.bytesPerSecond * floor.windowMs) / 1000));
    this.#fail = fail;
  }

  /** start opens the first window (when bytes can start to move). */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.restart();
    this.#arm(this.#floor.windowMs);
  }

  /** add counts bytes that moved. */
  add(n: number): void {
    this.#bytes += n;
  }

  /** restart opens a new window now: the reader, not the peer, held the transfer up. */
  restart(): void {
    this.#mark = this.#bytes;
    this.#start = performance.now();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(ms: number): void {
    this.#due = performance.now() + ms;
    this.#timer = setTimeout(() => this.#check(), ms);
    this.#timer.unref();
  }

  #check(): void {
    if (this.#stopped) return;
    const now = performance.now();
    // Woken far past the due time, this process was not running (a blocked event loop, a
    // suspended machine): the bytes may be waiting unread in the socket. Judge a fresh window.
    if (now - this.#due > this.#floor.windowMs / 2) {
      this.restart();
      this.#arm(this.#floor.windowMs);
      return;
    }
    const elapsed = now - this.#start;
    // A window restarted meanwhile is judged when it is complete.
    if (elapsed < this.#floor.windowMs - 1) {
      this.#arm(this.#floor.windowMs - elapsed);
      return;
    }
    if (this.#bytes - this.#mark < this.#need && this.#fail()) {
      this.stop();
      return;
    }
    this.restart();
    this.#arm(this.#floor.windowMs);
  }
}

/**
 * watchResponseBody fails `body` with `error()` when it arrives slower than
 * the floor. The body stays undici's own stream (a wrapper would lose
 * `dump()`, which keeps the connection reusable, and `arrayBuffer()`; a
 * 'data' listener would change its flow mode), so bytes are counted where
 * undici hands them over, in `push`. A push refused because the reader has
 * not taken the bytes before, or bytes waiting unread when a window ends,
 * mean the reader is behind, and the window starts over.
 */
export function watchResponseBody(body: Readable, floor: SpeedFloor, error: () => Error): void {
  if (floor.windowMs <= 0) return;
  const watch = new SpeedWatch(floor, () => {
    if (body.readableLength > 0) return false;
    body.destroy(error());
    return true;
  });
  const push = body.push;
  body.push = function countingPush(this: Readable, chunk: unknown, encoding?: BufferEncoding): boolean {
    // The end of the body (null) ends the watch: what is left is the reader's to take.
    if (chunk === null) watch.stop();
    else if (chunk !== undefined) watch.add((chunk as { length: number }).length);
    const more = push.call(this, chunk, encoding);
    if (!more) watch.restart();
    return more;
  };
  body.once("close", () => watch.stop());
  body.once("end", () => watch.stop());
  watch.start();
}

/**
 * watchRequestBody passes an upload body through a counter that fails it
 * with `error()` when the peer takes it slower than the floor. The window
 * opens when the transport first reads the body (so waiting for a pooled
 * connection does not count) and closes when the body has been read.
 */
export function watchRequestBody(source: Readable, floor: SpeedFloor, error: () => Error): Readable {
  if (floor.windowMs <= 0) return source;
  let counter: Transform | undefined;
  const watch = new SpeedWatch(floor, () => {
    const err = error();
    counter?.destroy(err);
    source.destroy();
    return true;
  });
  counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      watch.add(chunk.length);
      cb(null, chunk);
    },
    flush(cb) {
      watch.stop();
      cb();
    },
    read(size) {
      watch.start();
      Transform.prototype._read.call(this, size);
    },
  });
  // pipe() does not forward errors: a source that fails must fail the request.
  source.on("error", (err) => counter?.destroy(err));
  counter.once("close", () => {
    watch.stop();
    if (!source.destroyed) source.destroy();
  });
  return source.pipe(counter);
}
