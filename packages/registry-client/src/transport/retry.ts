import { setTimeout as delay } from "node:timers/promises";
import { RegistryError, type RegistryErrorCode } from "../errors.js";
import {
  drain,
  type HttpRequest,
  type HttpResponse,
  headerValue,
  isIdempotent,
  isReplayable,
  type Send,
} from "./send.js";
import { isTimeoutCode } from "./timeouts.js";

/** RetryOptions bound how hard a request is retried. */
export interface RetryOptions {
  /** attempts is the total number of tries, first included (default 5; 1 disables retries). */
  attempts?: number;
  /**
   * timeoutAttempts caps how many of those tries may time out (default 2,
   * within `attempts`): one more try gets a fresh connection past a stuck
   * one, but a registry that let a whole timeout pass twice is not coming
   * back within this job, and five tries would multiply every timeout by five.
   */
  timeoutAttempts?: number;
  /** baseDelayMs is the first backoff (default 250); each retry doubles it, with jitter. */
  baseDelayMs?: number;
  /** maxDelayMs caps one backoff (default 10 s). */
  maxDelayMs?: number;
  /** maxRetryAfterMs caps how long a server's Retry-After may make us wait (default 60 s). */
  maxRetryAfterMs?: number;
  /** sleep waits; tests inject one to observe delays without waiting. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** onRetry is told about each retry (for progress output and debug logs; the reason is redacted). */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  method: string;
  reason: string;
}

/** RETRY_STATUSES are the responses worth another try. */
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
/** NOT_PROCESSED_STATUSES promise the server did nothing, so even POST may be resent. */
const NOT_PROCESSED_STATUSES = new Set([429, 503]);
const RETRY_ERRORS = new Set<RegistryErrorCode>([
  "CONNECTION_RESET",
  "NETWORK_ERROR",
  "TIMEOUT",
  "CONNECT_TIMEOUT",
  "HEADERS_TIMEOUT",
  "TRANSFER_TOO_SLOW",
]);

/**
 * parseRetryAfter reads `Retry-After` as delta-seconds or an HTTP date and
 * returns milliseconds from `now`, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** backoffMs is exponential backoff with jitter in [50%, 100%] of the step. */
export function backoffMs(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + Math.random() * (step / 2));
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : undefined);
}

/**
 * withRetry resends a request after temporary failures: 408/429/5xx
 * responses, connection resets and timeouts. It honours Retry-After, backs
 * off exponentially with jitter, and stops after `attempts` tries. It never
 * resends a body that cannot be replayed, and resends a non-idempotent
 * request only when the server said it did nothing (429, 503). When tries
 * run out on a status, that last response is returned for the caller to turn
 * into an error.
 */
export function withRetry(next: Send, options: RetryOptions = {}): Send {
  const attempts = Math.max(1, options.attempts ?? 5);
  const timeoutAttempts = Math.max(1, Math.min(attempts, options.timeoutAttempts ?? 2));
  const base = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 60_000;
  const sleep = options.sleep ?? defaultSleep;

  return async (req: HttpRequest): Promise<HttpResponse> => {
    const replayable = isReplayable(req.body);
    let timedOut = 0;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts || !replayable;
      let res: HttpResponse;
      try {
        res = await next(req);
      } catch (err) {
        if (last || !(err instanceof RegistryError) || !RETRY_ERRORS.has(err.code) || !isIdempotent(req))
          throw err;
        if (isTimeoutCode(err.code) && ++timedOut >= timeoutAttempts) throw err;
        if (req.signal?.aborted) throw err;
        const ms = backoffMs(attempt, base, maxDelay);
        options.onRetry?.({ attempt, delayMs: ms, method: req.method, reason: err.message });
        await sleepOrAbort(sleep, ms, req);
        continue;
      }
      if (last || !RETRY_STATUSES.has(res.status)) return res;
      if (!NOT_PROCESSED_STATUSES.has(res.status) && !isIdempotent(req)) return res;
      const retryAfter = parseRetryAfter(headerValue(res.headers, "retry-after"));
      const ms =
        retryAfter !== undefined ? Math.min(retryAfter, maxRetryAfter) : backoffMs(attempt, base, maxDelay);
      await drain(res);
      options.onRetry?.({ attempt, delayMs: ms, method: req.method, reason: `HTTP ${res.status}` });
      await sleepOrAbort(sleep, ms, req);
    }
  };
}

async function sleepOrAbort(
  sleep: NonNullable<RetryOptions["sleep"]>,
  ms: number,
  req: HttpRequest,
): Promise<void> {
  try {
    await sleep(ms, req.signal);
  } catch (err) {
    throw new RegistryError("ABORTED", "request aborted while waiting to retry", {
      method: req.method,
      url: req.url,
      cause: err,
    });
  }
}
