import { InvalidInputError } from "@apo-rl/core";
import { ConfigError } from "../errors.js";
import { withEnvironmentBackend } from "../internal/backendOverride.js";
import { parseSubcommandArguments } from "../internal/subcommandArguments.js";
import { type CliOutput, describeFailure, exitStatusOf, takeVerbose } from "../runCli.js";
import { loadSftConfig } from "./loadSftConfig.js";
import type { SftConfig } from "./SftConfig.js";
import { runSftFromConfig } from "./sftCommand.js";

const usage = `apo-train sft — supervised fine-tuning of a Qwen2.5-VL policy on the synthetic counting task

Usage:
  apo-train sft --config sft.yaml [--set key.path=value]... [--out <dir>] [--backend <name>] [--print-config]

Trains with teacher-forced cross-entropy on the responses "<think> count the red shapes </think>
<answer> 3 </answer>" and writes a checkpoint directory (config.json, model.safetensors, tokenizer
files, sft-metrics.jsonl, sft-summary.json). The demo's checkpoint was made with
  apo-train sft --config apps/trainer/assets/demo/sft.yaml
See docs/demo.md.`;

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * `apo-train sft …` without the process; resolves to the exit status (0 done, 1 failed, 2 bad
 * command line or config).
 *
 * @since 0.1.0
 * @category sft
 */
export const runSftCli = async (
  argv: ReadonlyArray<string>,
  output: CliOutput = processOutput,
): Promise<number> => {
  let config: SftConfig;
  const { verbose, rest } = takeVerbose(argv);
  try {
    const parsed = parseSubcommandArguments("sft", rest, { "--out": "output.dir", "--backend": "backend" });
    if (parsed.help) {
      output.stdout(`${usage}\n`);
      return 0;
    }
    config = loadSftConfig({
      ...(parsed.config === undefined ? {} : { file: parsed.config }),
      overrides: withEnvironmentBackend(parsed.overrides),
    });
    if (parsed.printConfig) {
      output.stdout(`${JSON.stringify(config, null, 2)}\n`);
      return 0;
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof InvalidInputError) {
      output.stderr(`apo-train sft: ${describeFailure(error, { verbose })}\n`);
      return 2;
    }
    throw error;
  }
  try {
    const summary = await runSftFromConfig(config, { log: (line) => output.stderr(`${line}\n`) });
    output.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  } catch (error) {
    output.stderr(`apo-train sft: ${describeFailure(error, { verbose })}\n`);
    return exitStatusOf(error);
  }
};
