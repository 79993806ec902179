import { join } from "node:path";
import type { BackendName } from "@apo-rl/tensor";
import { checkpointDirectoryOf } from "../qwen/qwenPolicyFromConfig.js";
import { spawnConfiguredRolloutServers } from "../rollout/rolloutSourceFromConfig.js";
import type { TrainerConfig } from "../TrainerConfig.js";
import { train } from "../train.js";
import type { TrainingSummary } from "../trainingLoop.js";
import { chooseDemoBackend } from "./demoBackend.js";

/**
 * Options of {@link runDemo}.
 *
 * @since 0.1.0
 * @category demo
 */
export interface DemoOptions {
  /** Informational lines (default: stderr). */
  readonly log?: (line: string) => void;
  /** The per-step progress line (default: stderr). */
  readonly progress?: (line: string) => void;
  /** Checkpoint and stop on SIGINT/SIGTERM (default true). */
  readonly handleSignals?: boolean;
}

/**
 * What the demo did: the trainer's summary (also in `summary.json`) and the backend it ran on.
 *
 * @since 0.1.0
 * @category demo
 */
export interface DemoResult {
  readonly summary: TrainingSummary;
  readonly backend: string;
  readonly reportPath: string;
}

const percent = (value: number | null) => (value === null ? "n/a" : `${(100 * value).toFixed(1)}%`);

/**
 * The embedded demo: pick the backend (`config.backend`, falling back to cpu with the reason when
 * it cannot run the policy), then train the Qwen2.5-VL policy of `config.model` (`demo`: the
 * committed SFT checkpoint) with the objective of `config.objective` (APO) through the reference
 * trainer, which evaluates the held-out accuracy before and after and writes `metrics.jsonl`,
 * `report.html` and `summary.json` into `config.output.runDir`.
 *
 * @since 0.1.0
 * @category demo
 */
export const runDemo = async (config: TrainerConfig, options: DemoOptions = {}): Promise<DemoResult> => {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const preferred = config.backend === "auto" ? "wasm" : config.backend;
  // `rollout.spawn`: the servers start first, on the preferred backend, and load while this process
  // checks the backend and builds its own components (started again if the backend falls back).
  const spawnedServers = spawnConfiguredRolloutServers(
    { ...config, backend: preferred },
    { backend: preferred, log },
  );
  spawnedServers?.catch(() => undefined);
  let summary: TrainingSummary;
  let backend: BackendName;
  try {
    backend = await chooseDemoBackend(preferred, checkpointDirectoryOf(config), log);
    log(
      `demo: backend ${backend}, objective ${config.objective.name}, ${config.train.steps} steps, run directory ${config.output.runDir}`,
    );
    const chosen = backend;
    summary = await train(
      { ...config, backend },
      {
        hooks: { initBackend: async () => chosen },
        log,
        ...(options.progress === undefined ? {} : { progress: options.progress }),
        ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }),
        ...(spawnedServers === undefined ? {} : { spawnedServers }),
      },
    );
  } finally {
    // `train` stops them; also when the backend check failed before it.
    await (await spawnedServers?.catch(() => undefined))?.stop();
  }
  log(
    `demo: held-out accuracy ${percent(summary.heldOutAccuracyBefore)} before → ${percent(summary.heldOutAccuracyAfter)} after ${summary.steps} ${summary.objective} steps (${summary.wallSeconds.toFixed(0)} s)`,
  );
  return { summary, backend, reportPath: join(config.output.runDir, "report.html") };
};
