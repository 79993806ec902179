import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { Verification } from "@apo-rl/core";
import { Context, Effect, Layer } from "effect";
import Tinypool from "tinypool";
import { VerifierPoolError } from "./errors.js";
import { tooLong } from "./internal/inputLimit.js";
import { DEFAULT_MAX_INPUT_LENGTH } from "./limits.js";
import type { BuiltinVerifier } from "./VerifierSpec.js";

/**
 * One response to verify against its reference.
 *
 * @since 0.1.0
 * @category pool
 */
export interface VerificationItem {
  readonly response: string;
  readonly reference: string;
}

/**
 * Options of {@link createVerifierPool}.
 *
 * @since 0.1.0
 * @category pool
 */
export interface VerifierPoolOptions {
  /** Worker threads. Default: available cores − 1, at least 1. */
  readonly threads?: number;
  /** Hard limit on one verification (and on one chunk) in milliseconds, counted from when the worker starts it. Default 2000. */
  readonly timeLimitMs?: number;
  /** Longest response/reference accepted; longer ones get reason `too-long` without reaching a worker. Default 20 000. */
  readonly maxInputLength?: number;
  /** How long a chunk may wait for a worker to start before it counts as timed out. Default 60 000. */
  readonly startupAllowanceMs?: number;
  /** Items sent to a worker per message. Default 32. */
  readonly chunkSize?: number;
  /** Worker script; default `worker.js` next to this module, else the package's `dist/worker.js`. */
  readonly workerFile?: string | URL;
}

/**
 * A running pool bound to one verifier: same shape as the trainer's `BatchVerifier`.
 *
 * @since 0.1.0
 * @category pool
 */
export interface VerifierPoolHandle {
  readonly name: string;
  verify(response: string, reference: string): Promise<Verification>;
  /** Verify many items concurrently; results come back in the order of `items`. */
  verifyBatch(items: ReadonlyArray<VerificationItem>): Promise<ReadonlyArray<Verification>>;
  close(): Promise<void>;
}

/**
 * Where the built worker lives: next to this module in `dist/`, or `../dist/worker.js` when this
 * module runs from source (tests); build the package first in that case.
 *
 * @since 0.1.0
 * @category pool
 */
export const resolveWorkerFile = (workerFile?: string | URL): string => {
  const candidates =
    workerFile === undefined
      ? [new URL("./worker.js", import.meta.url), new URL("../dist/worker.js", import.meta.url)]
      : [workerFile];
  for (const candidate of candidates) {
    const path = candidate instanceof URL ? fileURLToPath(candidate) : candidate;
    if (existsSync(path)) return path;
  }
  throw new VerifierPoolError({
    reason: "worker-missing",
    detail: `no worker script at ${candidates.map(String).join(" or ")}; build @apo-rl/rewards first (pnpm exec turbo run build --filter=@apo-rl/rewards)`,
  });
};

const timeoutVerification = (timeLimitMs: number): Verification => ({
  reward: 0,
  correct: false,
  details: { reason: "timeout", timeLimitMs },
});

/** A counting semaphore: at most `size` chunks are in a worker at once, so a timer starts when work starts. */
const semaphore = (size: number) => {
  let free = size;
  const waiting: Array<() => void> = [];
  return {
    acquire: (): Promise<void> => {
      if (free > 0) {
        free -= 1;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    release: (): void => {
      const next = waiting.shift();
      if (next === undefined) free += 1;
      else next();
    },
  };
};

const isAbort = (error: unknown): boolean => error instanceof Error && error.name === "AbortError";

/**
 * Start a worker pool that runs `verifier` with a hard time limit per verification: a verification
 * that does not finish in `timeLimitMs` has its worker terminated and gets reward 0 with
 * `details.reason === "timeout"`. Only built-in verifiers (those with a `spec`) can run in the pool.
 *
 * @since 0.1.0
 * @category pool
 */
export const createVerifierPool = (
  verifier: BuiltinVerifier,
  options: VerifierPoolOptions = {},
): VerifierPoolHandle => {
  if (verifier.spec === undefined) {
    throw new VerifierPoolError({
      reason: "not-serializable",
      detail: `verifier ${verifier.name} has no spec; only built-in verifiers can run in the pool`,
    });
  }
  const filename = resolveWorkerFile(options.workerFile);
  const threads = Math.max(1, options.threads ?? availableParallelism() - 1);
  const timeLimitMs = options.timeLimitMs ?? 2000;
  const maxInputLength = options.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH;
  const chunkSize = Math.max(1, options.chunkSize ?? 32);
  const watchdogPeriod = Math.max(2, Math.min(25, timeLimitMs / 20));
  const startupAllowanceMs = options.startupAllowanceMs ?? 60_000;
  const pool = new Tinypool({ filename, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  const slots = semaphore(threads);
  const spec = verifier.spec;
  let closed = false;
  const runChunk = async (
    items: ReadonlyArray<VerificationItem>,
  ): Promise<ReadonlyArray<Verification> | undefined> => {
    await slots.acquire();
    // The worker stamps the wall-clock time at which it starts verifying into shared memory, so the
    // limit counts verification only: not queueing, not a replacement worker's start-up.
    const started = new SharedArrayBuffer(8);
    const startedAt = new Float64Array(started);
    const controller = new AbortController();
    const queuedAt = performance.now();
    const watchdog = setInterval(() => {
      const start = startedAt[0] as number;
      const running = start !== 0 && performance.timeOrigin + performance.now() - start >= timeLimitMs;
      // A worker that never starts (or does not stamp) is given up after the start-up allowance.
      const neverStarted = start === 0 && performance.now() - queuedAt >= startupAllowanceMs + timeLimitMs;
      if (running || neverStarted) controller.abort();
    }, watchdogPeriod);
    try {
      return (await pool.run(
        { spec, items, started },
        { signal: controller.signal },
      )) as ReadonlyArray<Verification>;
    } catch (error) {
      if (isAbort(error)) return undefined;
      return items.map(() => ({
        reward: 0,
        correct: false,
        details: { reason: "error", message: String(error) },
      }));
    } finally {
      clearInterval(watchdog);
      slots.release();
    }
  };

  /** A chunk that timed out is retried item by item; an item that times out twice is a timeout. */
  const runWithRetry = async (
    items: ReadonlyArray<VerificationItem>,
    attempt: number,
  ): Promise<ReadonlyArray<Verification>> => {
    const results = await runChunk(items);
    if (results !== undefined) return results;
    if (items.length > 1) return (await Promise.all(items.map((item) => runWithRetry([item], 0)))).flat();
    return attempt === 0 ? runWithRetry(items, 1) : [timeoutVerification(timeLimitMs)];
  };

  const verifyBatch = async (
    items: ReadonlyArray<VerificationItem>,
  ): Promise<ReadonlyArray<Verification>> => {
    if (closed) throw new VerifierPoolError({ reason: "closed", detail: "the pool was closed" });
    const results: Verification[] = new Array(items.length);
    const pending: Array<{ index: number; item: VerificationItem }> = [];
    items.forEach((item, index) => {
      const limited = tooLong(item.response, item.reference, maxInputLength);
      if (limited === undefined) pending.push({ index, item });
      else results[index] = limited;
    });
    const size = Math.min(chunkSize, Math.max(1, Math.ceil(pending.length / threads)));
    const chunks: Array<typeof pending> = [];
    for (let start = 0; start < pending.length; start += size)
      chunks.push(pending.slice(start, start + size));
    await Promise.all(
      chunks.map(async (chunk) => {
        const verdicts = await runWithRetry(
          chunk.map((entry) => entry.item),
          0,
        );
        chunk.forEach((entry, offset) => {
          results[entry.index] = verdicts[offset] as Verification;
        });
      }),
    );
    return results;
  };

  return {
    name: verifier.name,
    verify: async (response, reference) => (await verifyBatch([{ response, reference }]))[0] as Verification,
    verifyBatch,
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.destroy();
    },
  };
};

/**
 * Verify a batch in a temporary pool (started and closed around the call). For repeated batches keep
 * one pool with {@link createVerifierPool}.
 *
 * @since 0.1.0
 * @category pool
 */
export const verifyBatch = async (
  verifier: BuiltinVerifier,
  items: ReadonlyArray<VerificationItem>,
  options: VerifierPoolOptions = {},
): Promise<ReadonlyArray<Verification>> => {
  const pool = createVerifierPool(verifier, options);
  try {
    return await pool.verifyBatch(items);
  } finally {
    await pool.close();
  }
};

/**
 * The Effect view of a pool: verifications as effects.
 *
 * @since 0.1.0
 * @category pool
 */
export interface VerifierPoolShape {
  readonly name: string;
  readonly verify: (response: string, reference: string) => Effect.Effect<Verification>;
  readonly verifyBatch: (
    items: ReadonlyArray<VerificationItem>,
  ) => Effect.Effect<ReadonlyArray<Verification>>;
}

/**
 * Effect service of a verifier pool. The pool is a scoped resource: {@link VerifierPool.layer} starts
 * the workers when the layer is built and terminates them when its scope closes.
 *
 * @since 0.1.0
 * @category pool
 */
export class VerifierPool extends Context.Service<VerifierPool, VerifierPoolShape>()(
  "@apo-rl/rewards/VerifierPool",
) {
  /** Acquire a pool in the current scope. */
  static make(verifier: BuiltinVerifier, options: VerifierPoolOptions = {}) {
    return Effect.acquireRelease(
      Effect.try({
        try: () => createVerifierPool(verifier, options),
        catch: (error) =>
          error instanceof VerifierPoolError
            ? error
            : new VerifierPoolError({ reason: "worker-failed", detail: String(error) }),
      }),
      (pool) => Effect.promise(() => pool.close()),
    ).pipe(
      Effect.map(
        (pool): VerifierPoolShape => ({
          name: pool.name,
          verify: (response, reference) => Effect.promise(() => pool.verify(response, reference)),
          verifyBatch: (items) => Effect.promise(() => pool.verifyBatch(items)),
        }),
      ),
    );
  }

  /** A layer providing {@link VerifierPool} for `verifier`. */
  static layer(
    verifier: BuiltinVerifier,
    options: VerifierPoolOptions = {},
  ): Layer.Layer<VerifierPool, VerifierPoolError> {
    return Layer.effect(VerifierPool, VerifierPool.make(verifier, options));
  }
}
