import { ConfigError } from "../errors.js";

/** What the command line asks for. */
export interface CliArguments {
  readonly command: "train" | "doctor" | "help" | "version";
  readonly config?: string;
  readonly overrides: ReadonlyArray<string>;
  /** `--plugin` modules, in order. */
  readonly plugins: ReadonlyArray<string>;
  readonly resume: boolean;
  /** With `--resume`: accept config changes that alter the training trajectory. */
  readonly allowConfigChange: boolean;
  readonly printConfig: boolean;
}

export const usage = `apo-train — reference RL trainer of apo-rl (APO and the GRPO family)

Usage:
  apo-train --config run.yaml [options]     train with a YAML or JSON config
  apo-train sft --config sft.yaml           supervised warm-start (apo-train sft --help)
  apo-train demo                            the embedded demo (apo-train demo --help)
  apo-train doctor                          Node version and the tfjs backends usable here
  apo-train --help | --version

Options:
  -c, --config <file>     configuration file (.yaml/.yml, or .json)
  --set <key.path=value>  override one config value (repeatable), e.g. --set optimizer.lr=1e-6
                          --set train.steps=100 --set optimizer.betas=[0.9,0.99]
                          (the value is read as YAML: numbers, booleans, lists, strings)
  --run-dir <dir>         shorthand for --set output.runDir=<dir>
  --plugin <path|package> import a module that registers objectives, advantage estimators or
                          policy losses before the config is read (repeatable; also plugins: [...]
                          in the config, paths relative to the config file)
  --backend <name>        shorthand for --set backend=<name> (e.g. webgpu); APO_BACKEND=<name> also
                          replaces the config file's backend, --backend replaces both
  --resume                continue from the newest checkpoint in output.runDir/checkpoints; the config
                          must match the checkpoint's except for train.steps (upwards), eval/save
                          cadence, logging and output
  --allow-config-change   with --resume: also accept changes of the training trajectory (objective,
                          seed, data, optimizer, …); each change is logged
  --skip-invalid          skip invalid dataset rows (counted and reported) instead of failing
  --print-config          print the resolved config (defaults applied) and exit
  --verbose               on failure, also print the error's stack and cause chain
  -h, --help              this help
  --version               the trainer's version

Exit status: 0 done, 1 training or setup failed, 2 bad command line or config (an unknown objective,
a changed config on --resume included), 130 interrupted
(SIGINT/SIGTERM: the current step finishes and a checkpoint is written; resume with --resume).
See docs/trainer.md for every config key.`;

const flagValue = (argv: ReadonlyArray<string>, index: number, flag: string): string => {
  const value = argv[index + 1];
  if (value === undefined || value.startsWith("--"))
    throw new ConfigError({ source: "command line", reason: `${flag} needs a value` });
  return value;
};

/** Parse `apo-train`'s arguments (without `node` and the script). */
export const parseCliArguments = (argv: ReadonlyArray<string>): CliArguments => {
  let command: CliArguments["command"] = "train";
  let config: string | undefined;
  const overrides: string[] = [];
  const plugins: string[] = [];
  let resume = false;
  let allowConfigChange = false;
  let printConfig = false;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    const [flag, inline] =
      argument.startsWith("--") && argument.includes("=")
        ? [argument.slice(0, argument.indexOf("=")), argument.slice(argument.indexOf("=") + 1)]
        : [argument, undefined];
    const take = (): string => {
      if (inline !== undefined) return inline;
      const value = flagValue(argv, index, flag);
      index += 1;
      return value;
    };
    switch (flag) {
      case "-h":
      case "--help":
        return {
          command: "help",
          overrides: [],
          plugins: [],
          resume: false,
          allowConfigChange: false,
          printConfig: false,
        };
      case "--version":
        return {
          command: "version",
          overrides: [],
          plugins: [],
          resume: false,
          allowConfigChange: false,
          printConfig: false,
        };
      case "-c":
      case "--config":
        config = take();
        break;
      case "--set":
        overrides.push(take());
        break;
      case "--plugin":
        plugins.push(take());
        break;
      case "--run-dir":
        overrides.push(`output.runDir=${take()}`);
        break;
      case "--backend":
        overrides.push(`backend=${take()}`);
        break;
      case "--resume":
        resume = true;
        break;
      case "--allow-config-change":
        allowConfigChange = true;
        break;
      case "--skip-invalid":
        overrides.push("data.skipInvalid=true");
        break;
      case "--print-config":
        printConfig = true;
        break;
      case "doctor":
        if (index !== 0) throw new ConfigError({ source: "command line", reason: "doctor must come first" });
        command = "doctor";
        break;
      default:
        throw new ConfigError({
          source: "command line",
          reason: `unknown ${argument.startsWith("-") ? "option" : "argument"} ${JSON.stringify(argument)} (see apo-train --help)`,
        });
    }
  }
  if (command === "train" && config === undefined && overrides.length === 0)
    throw new ConfigError({ source: "command line", reason: "no --config given (see apo-train --help)" });
  if (allowConfigChange && !resume)
    throw new ConfigError({
      source: "command line",
      reason: "--allow-config-change only applies with --resume",
    });
  return {
    command,
    ...(config === undefined ? {} : { config }),
    overrides,
    plugins,
    resume,
    allowConfigChange,
    printConfig,
  };
};
