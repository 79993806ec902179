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

const MAX_CAUSES = 8;

/** `error.cause` when it is set (standard `Error` causes and tagged errors with a `cause` field). */
const causeOf = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "cause" in error ? error.cause : undefined;

/** The stack frames of an error (its `at …` lines), indented. */
const framesOf = (error: unknown, indent: string): ReadonlyArray<string> =>
  error instanceof Error && error.stack !== undefined
    ? error.stack
        .split("\n")
        .filter((line) => /^\s+at /.test(line))
        .map((line) => `${indent}${line.trim()}`)
    : [];

const headline = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * A failure as the CLI prints it: the message, then each problem of an `InvalidInputError`. With
 * `verbose`, also the error's stack and its cause chain (`cause`, the cause's cause, …), each with
 * its stack; without it, a hint that `--verbose` shows the cause when there is one.
 *
 * @since 0.1.0
 * @category cli
 */
export const describeFailure = (error: unknown, options: { readonly verbose?: boolean } = {}): string => {
  const message =
    error instanceof InvalidInputError && error.problems.length > 1
      ? [
          `Invalid ${error.subject}:`,
          ...error.problems.map((problem) => `  ${problem.field || "(value)"}: ${problem.reason}`),
        ].join("\n")
      : error instanceof Error
        ? error.message
        : String(error);
  const first = causeOf(error);
  if (options.verbose !== true)
    return first === undefined ? message : `${message}\n(run with --verbose for its cause)`;
  const lines = [message, `  ${headline(error)}`, ...framesOf(error, "    ")];
  const seen = new Set<unknown>([error]);
  for (let cause = first, depth = 0; cause !== undefined && depth < MAX_CAUSES; depth++) {
    if (seen.has(cause)) break;
    seen.add(cause);
    lines.push(`  caused by ${headline(cause)}`, ...framesOf(cause, "    "));
    cause = causeOf(cause);
  }
  return lines.join("\n");
};

/**
 * The exit status of a failed run: 2 for a bad config (core's `InvalidInputError`, an unknown
 * objective, a config that differs from the checkpoint's on `--resume`), 1 for anything else.
 *
 * @since 0.1.0
 * @category cli
 */
export const exitStatusOf = (error: unknown): 1 | 2 =>
  error instanceof InvalidInputError ||
  error instanceof UnknownObjectiveError ||
  error instanceof ResumeConfigError ||
  error instanceof PluginError ||
  error instanceof ConfigError
    ? 2
    : 1;

/** `--verbose` anywhere on the command line, and the arguments without it. */
export const takeVerbose = (
  argv: ReadonlyArray<string>,
): { readonly verbose: boolean; readonly rest: ReadonlyArray<string> } => ({
  verbose: argv.includes("--verbose"),
  rest: argv.filter((argument) => argument !== "--verbose"),
});

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
  const { verbose, rest } = takeVerbose(argv);
  let config: ReturnType<typeof loadConfig>;
  let resume = false;
  let allowConfigChange = false;
  try {
    const parsed = parseCliArguments(rest);
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
      output.stderr(`apo-train: ${describeFailure(error, { verbose })}\n`);
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
    output.stderr(`apo-train: ${describeFailure(error, { verbose })}\n`);
    return exitStatusOf(error);
  }
};
