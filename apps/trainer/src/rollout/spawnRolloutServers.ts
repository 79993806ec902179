import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { trainerAssetsDirectory } from "../demo/demoAssets.js";
import { RolloutServiceError } from "./errors.js";

/**
 * Options of {@link spawnRolloutServers}.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface SpawnRolloutServersOptions {
  readonly count: number;
  /** The checkpoint directory every server loads. */
  readonly model: string;
  /** The name the servers serve it under. */
  readonly servedModelName: string;
  /** Also serve the initial weights under this id (`--reference-model-name`). */
  readonly referenceModelName?: string;
  /** The tfjs backend of the servers (the trainer's, so that greedy tokens agree). */
  readonly backend: string;
  /**
   * The command that runs `apo-serve` (default: `node <this package>/dist/serveCli.js`); the server
   * arguments are appended.
   */
  readonly command?: ReadonlyArray<string>;
  /** Milliseconds to wait for each server to listen (default 120 000). */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * Local `apo-serve` processes on loopback ports.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface SpawnedRolloutServers {
  readonly urls: ReadonlyArray<string>;
  /** The tfjs backend they run on. */
  readonly backend: string;
  readonly processes: ReadonlyArray<ChildProcess>;
  /** SIGTERM every server (SIGKILL after 10 s) and wait for them to exit. */
  stop(): Promise<void>;
}

/**
 * The default command that runs `apo-serve`: this package's built `dist/serveCli.js`.
 *
 * @since 0.1.0
 * @category rollout
 */
export const defaultServeCommand = (): ReadonlyArray<string> => {
  const cli = join(trainerAssetsDirectory(), "..", "dist", "serveCli.js");
  if (!existsSync(cli))
    throw new RolloutServiceError({
      server: null,
      reason: `${cli} is missing: build the trainer first (pnpm build) to spawn apo-serve processes`,
    });
  return [process.execPath, cli];
};

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
  });

const stopChild = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited(child);
  clearTimeout(timer);
};

/** Start one server and resolve with its URL once it prints its `listening` line. */
const startOne = (command: ReadonlyArray<string>, args: ReadonlyArray<string>, timeoutMs: number) => {
  const child = spawn(command[0]!, [...command.slice(1), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    // One wasm thread per server (@apo-rl/tensor's APO_WASM_THREADS), whatever the trainer uses:
    // the servers and the trainer share this machine's cores, and more threads per process thrash.
    env: { ...process.env, APO_WASM_THREADS: "1" },
  });
  const errors: string[] = [];
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => {
    errors.push(text);
    if (errors.length > 40) errors.shift();
  });
  const url = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      reject(
        new RolloutServiceError({
          server: null,
          reason: `apo-serve did not listen within ${timeoutMs} ms: ${errors.join("").slice(-500)}`,
        }),
      );
    }, timeoutMs);
    lines.on("line", (line) => {
      try {
        const event = JSON.parse(line) as { event?: string; url?: string };
        if (event.event === "listening" && typeof event.url === "string") {
          clearTimeout(timer);
          resolve(event.url);
        }
      } catch {
        // Not a JSON event line.
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new RolloutServiceError({
          server: null,
          reason: `apo-serve exited (${code ?? signal}) before listening: ${errors.join("").slice(-500)}`,
        }),
      );
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new RolloutServiceError({ server: null, reason: `cannot start apo-serve: ${error.message}` }));
    });
  });
  return { child, url };
};

/**
 * Start `count` `apo-serve` processes bound to 127.0.0.1 on free ports, each serving `model`; resolves
 * once all listen. They are stopped by `stop()` (and killed if this process exits first).
 *
 * @since 0.1.0
 * @category rollout
 */
export const spawnRolloutServers = async (
  options: SpawnRolloutServersOptions,
): Promise<SpawnedRolloutServers> => {
  const command = options.command ?? defaultServeCommand();
  const args = [
    "--model",
    options.model,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--served-model-name",
    options.servedModelName,
    "--backend",
    options.backend,
    ...(options.referenceModelName === undefined
      ? []
      : ["--reference-model-name", options.referenceModelName]),
  ];
  const started = Array.from({ length: options.count }, () =>
    startOne(command, args, options.startTimeoutMs ?? 120_000),
  );
  const processes = started.map((server) => server.child);
  const killAll = () => {
    for (const child of processes)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  const stop = async () => {
    process.removeListener("exit", killAll);
    await Promise.all(processes.map(stopChild));
  };
  try {
    const urls = await Promise.all(started.map((server) => server.url));
    options.log?.(`rollout servers: ${urls.join(", ")} (apo-serve, ${options.backend})`);
    return { urls, backend: options.backend, processes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
};
