import { RolloutServiceError } from "./errors.js";
import type { RolloutSource } from "./RolloutSource.js";

/**
 * A rollout source usable at once while it is still being set up (e.g. `rollout.spawn` servers
 * starting and warming up). `start` builds the real source; it is given `awaited`, which turns
 * true once the trainer waits for the source (a `generate` or `evaluate` call), so that optional
 * set-up work (a warm-up) can stop early. Until `start` resolves, `ready()` is false (the trainer
 * evaluates in-process meanwhile), and `generate`, `evaluate` and `schedule` wait for it, in call
 * order. A set-up failure rejects the first call that needs the source; `close` waits for the
 * set-up to end and closes what it built.
 *
 * @since 0.1.0
 * @category rollout
 */
export const startingRolloutSource = (
  start: (awaited: () => boolean) => Promise<RolloutSource>,
): RolloutSource => {
  let waiting = false;
  let source: RolloutSource | undefined;
  const starting = start(() => waiting);
  starting.then(
    (built) => {
      source = built;
    },
    () => undefined,
  );
  const started = () => {
    waiting = true;
    return starting;
  };
  return {
    kind: "remote",
    ready: () => source !== undefined && (source.ready?.() ?? true),
    generate: async (requests, options, context) => (await started()).generate(requests, options, context),
    schedule: (requests, options, context) => {
      if (source !== undefined) return source.schedule?.(requests, options, context);
      // Registered before any `generate` called after it (promise callbacks run in order).
      starting.then(
        (built) => built.schedule?.(requests, options, context),
        () => undefined,
      );
    },
    // Still starting: the first `generate` syncs.
    prepare: (context) => source?.prepare?.(context),
    evaluate: async (requests, options, context) => {
      const built = await started();
      if (built.evaluate === undefined)
        throw new RolloutServiceError({ server: null, reason: "the rollout source cannot evaluate" });
      return built.evaluate(requests, options, context);
    },
    close: async () => {
      await (await starting.catch(() => undefined))?.close();
    },
  };
};
