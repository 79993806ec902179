import { InvalidInputError } from "@apo-rl/core";
import { UnknownObjectiveError } from "@apo-rl/objectives";
import { doctor } from "@apo-rl/tensor";
import { ConfigError, PluginError, ResumeConfigError } from "./errors.js";
import { withEnvironmentBackend } from "./internal/backendOverride.js";
import { parseCliArguments, usage } from "./internal/cliArguments.js";
import { type loadConfig, loadConfigWithPlugins } from "./loadConfig.js";
import { type TrainOptions, train } from "./train.js";

/**
 * Where the CLI writes.
 *
 * @since 0.1.0
 * @category cli
 */
export interface CliOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const VERSION = "0.1.0";

/**
 * A failure as the CLI prints it: the message, then each problem of an `InvalidInputError`.
 *
 * @since 0.1.0
 * @category cli
 */
export const describeFailure = (error: unknown): string => {
  if (error instanceof InvalidInputError && error.problems.length > 1)
    return [
      `Invalid ${error.subject}:`,
      ...error.problems.map((problem) => `  ${problem.field || "(value)"}: ${problem.reason}`),
    ].join("\n");
  return error instanceof Error ? error.message : String(error);
};

/**
 * The exit status of a failed run: 2 for a bad config (core's `InvalidInputError`, an unknown
 * objective, a config that differs from the checkpoint's on `--resume`), 1 for anything else.
 *
 * @since 0.1.0
 * @category cli
 */
export const exitStatusOf = (error: unknown): number =>
  error instanceof InvalidInputError ||
  error instanceof UnknownObjectiveError ||
  error instanceof ResumeConfigError ||
  error instanceof PluginError ||
  error instanceof ConfigError
    ? 2
    : 1;

/**
 * `apo-train` without the process: parses `argv`, runs the command and resolves to the exit status
 * (0 done, 1 failed, 2 bad command line or config, 130 interrupted). `options.hooks` plugs in
 * component factories (e.g. a policy for `model.checkpoint`).
 *
 * @since 0.1.0
 * @category cli
 */
export const runCli = async (
  argv: ReadonlyArray<string>,
  output: CliOutput = processOutput,
  options: Pick<TrainOptions, "hooks" | "handleSignals" | "log" | "progress"> = {},
): Promise<number> => {
  let config: ReturnType<typeof loadConfig>;
  let resume = false;
  let allowConfigChange = false;
  try {
    const parsed = parseCliArguments(argv);
    if (parsed.command === "help") {
      output.stdout(`${usage}\n`);
      return 0;
    }
    if (parsed.command === "version") {
      output.stdout(`${VERSION}\n`);
      return 0;
    }
    if (parsed.command === "doctor") {
      output.stdout(`${await doctor()}\n`);
      return 0;
    }
    config = await loadConfigWithPlugins({
      ...(parsed.config === undefined ? {} : { file: parsed.config }),
      overrides: withEnvironmentBackend(parsed.overrides),
      plugins: parsed.plugins,
    });
    if (parsed.printConfig) {
      output.stdout(`${JSON.stringify(config, null, 2)}\n`);
      return 0;
    }
    resume = parsed.resume;
    allowConfigChange = parsed.allowConfigChange;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof InvalidInputError || error instanceof PluginError) {
      output.stderr(`apo-train: ${describeFailure(error)}\n`);
      return 2;
    }
    throw error;
  }
  try {
    const summary = await train(config, {
      ...options,
      resume,
      allowConfigChange,
      log: options.log ?? ((line) => output.stderr(`${line}\n`)),
    });
    output.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    if (summary.interrupted) {
      output.stderr(`apo-train: interrupted after step ${summary.steps}; continue with --resume\n`);
      return 130;
    }
    return 0;
  } catch (error) {
    output.stderr(`apo-train: ${describeFailure(error)}\n`);
    return exitStatusOf(error);
  }
};
