import { ConfigError } from "../errors.js";

/** The arguments of `apo-train sft` and `apo-train demo`. */
export interface SubcommandArguments {
  readonly help: boolean;
  readonly config?: string;
  readonly overrides: ReadonlyArray<string>;
  readonly printConfig: boolean;
}

/** Parse `--config`, `--set`, `--print-config`, `--help` (and `--run-dir` / `--out` as `--set` shorthands). */
export const parseSubcommandArguments = (
  command: string,
  argv: ReadonlyArray<string>,
  shorthands: Readonly<Record<string, string>> = {},
): SubcommandArguments => {
  let config: string | undefined;
  const overrides: string[] = [];
  let printConfig = false;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    const equals = argument.startsWith("--") ? argument.indexOf("=") : -1;
    const flag = equals === -1 ? argument : argument.slice(0, equals);
    const take = (): string => {
      if (equals !== -1) return argument.slice(equals + 1);
      const value = argv[index + 1];
      if (value === undefined || value.startsWith("--"))
        throw new ConfigError({ source: "command line", reason: `${flag} needs a value` });
      index += 1;
      return value;
    };
    if (flag === "-h" || flag === "--help") return { help: true, overrides: [], printConfig: false };
    else if (flag === "-c" || flag === "--config") config = take();
    else if (flag === "--set") overrides.push(take());
    else if (flag === "--print-config") printConfig = true;
    else if (shorthands[flag] !== undefined) overrides.push(`${shorthands[flag]}=${take()}`);
    else
      throw new ConfigError({
        source: "command line",
        reason: `unknown ${argument.startsWith("-") ? "option" : "argument"} ${JSON.stringify(argument)} (see apo-train ${command} --help)`,
      });
  }
  return { help: false, ...(config === undefined ? {} : { config }), overrides, printConfig };
};
