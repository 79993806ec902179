/**
 * Emscripten's Node glue (tfjs-backend-wasm's loader) adds `uncaughtException` and
 * `unhandledRejection` listeners to the process that rethrow what they receive. A rethrow from a
 * listener makes Node report the listener as the origin: it prints the glue's source line (tens of
 * kilobytes for a minified glue) before the error, and exits with 7 instead of 1. apo-rl never
 * calls Emscripten's `exit()`, so those listeners have nothing to do: they are removed once the
 * backend is initialised, and uncaught errors print as Node prints them without the glue.
 */
const EVENTS = ["uncaughtException", "unhandledRejection"] as const;

type Listener = (...args: Array<unknown>) => void;

const listenersOf = (event: (typeof EVENTS)[number]): Array<Listener> =>
  (process.listeners as (name: string) => Array<Listener>)(event);

/** The process listeners of the events above, as they are now. */
export const processHandlers = (): ReadonlyMap<string, ReadonlySet<Listener>> =>
  new Map(EVENTS.map((event) => [event, new Set(listenersOf(event))]));

/** A listener whose whole body rethrows its argument (optionally unless it is an `ExitStatus`). */
const rethrows = (listener: Listener): boolean => {
  const source = Function.prototype.toString.call(listener);
  return (
    source.length < 300 &&
    /^(?:function\s*)?\(\s*(\w+)\s*\)\s*(?:=>\s*)?\{[^{}]*(?:\{\s*)?throw\s+\1\b/.test(source)
  );
};

/**
 * Remove the rethrowing listeners added since `before` (the Emscripten glue's); leaves every other
 * listener, the application's included. Returns how many were removed.
 */
export const removeRethrowingHandlers = (before: ReadonlyMap<string, ReadonlySet<Listener>>): number => {
  let removed = 0;
  for (const event of EVENTS) {
    const known = before.get(event) ?? new Set<Listener>();
    for (const listener of listenersOf(event)) {
      if (known.has(listener) || !rethrows(listener)) continue;
      process.removeListener(event, listener as (...args: Array<unknown>) => void);
      removed += 1;
    }
  }
  return removed;
};
