import { join } from "node:path";
import { InvalidInputError } from "@apo-rl/core";
import { ConfigError } from "../errors.js";
import { withEnvironmentBackend } from "../internal/backendOverride.js";
import { parseSubcommandArguments } from "../internal/subcommandArguments.js";
import { loadConfig } from "../loadConfig.js";
import { type CliOutput, describeFailure, exitStatusOf, takeVerbose } from "../runCli.js";
import type { TrainerConfig } from "../TrainerConfig.js";
import { trainerAssetsDirectory } from "./demoAssets.js";
import { runDemo } from "./runDemo.js";

const usage = `apo-train demo — the embedded demo: APO on the synthetic counting task, on CPU

Usage:
  apo-train demo [--config demo.yaml] [--set key.path=value]... [--run-dir <dir>] [--backend <name>]
                 [--print-config]

Starts from the committed SFT checkpoint, evaluates the held-out accuracy (greedy), trains with
APO, evaluates again and prints both. The run directory (default runs/demo-<time>) receives
metrics.jsonl, report.html, summary.json and checkpoints/. The default config is
apps/trainer/assets/demo/demo.yaml; every key of it can be overridden, e.g.
  apo-train demo --set train.steps=100 --set objective.name=grpo
The backend is demo.yaml's (wasm) unless --backend <name> or APO_BACKEND=<name> names another,
e.g. APO_BACKEND=webgpu pnpm demo --set train.steps=3.
See docs/demo.md.`;

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * The demo's default config file, `assets/demo/demo.yaml`.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoConfigFile = (): string => join(trainerAssetsDirectory(), "demo", "demo.yaml");

const timestamp = () => new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);

/**
 * `apo-train demo …` without the process; resolves to the exit status (0 done, 1 failed, 2 bad
 * command line or config, 130 interrupted).
 *
 * @since 0.1.0
 * @category demo
 */
export const runDemoCli = async (
  argv: ReadonlyArray<string>,
  output: CliOutput = processOutput,
): Promise<number> => {
  let config: TrainerConfig;
  const { verbose, rest } = takeVerbose(argv);
  try {
    const parsed = parseSubcommandArguments("demo", rest, {
      "--run-dir": "output.runDir",
      "--backend": "backend",
    });
    if (parsed.help) {
      output.stdout(`${usage}\n`);
      return 0;
    }
    const keepRunDirectory =
      parsed.config !== undefined ||
      parsed.overrides.some((override) => override.trim().startsWith("output.runDir="));
    config = loadConfig({
      file: parsed.config ?? demoConfigFile(),
      overrides: withEnvironmentBackend([
        ...(keepRunDirectory ? [] : [`output.runDir=runs/demo-${timestamp()}`]),
        ...parsed.overrides,
      ]),
    });
    if (parsed.printConfig) {
      output.stdout(`${JSON.stringify(config, null, 2)}\n`);
      return 0;
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof InvalidInputError) {
      output.stderr(`apo-train demo: ${describeFailure(error, { verbose })}\n`);
      return 2;
    }
    throw error;
  }
  try {
    const { summary, backend, reportPath } = await runDemo(config, {
      log: (line) => output.stderr(`${line}\n`),
    });
    const percent = (value: number | null) => (value === null ? "n/a" : `${(100 * value).toFixed(1)}%`);
    output.stdout(
      [
        "",
        `APO demo (${summary.steps} steps on ${backend}, ${summary.wallSeconds.toFixed(0)} s)`,
        `  held-out accuracy before: ${percent(summary.heldOutAccuracyBefore)}`,
        `  held-out accuracy after:  ${percent(summary.heldOutAccuracyAfter)}`,
        `  report:  ${reportPath}`,
        `  summary: ${join(summary.runDir, "summary.json")}`,
        "",
      ].join("\n"),
    );
    return summary.interrupted ? 130 : 0;
  } catch (error) {
    output.stderr(`apo-train demo: ${describeFailure(error, { verbose })}\n`);
    return exitStatusOf(error);
  }
};
