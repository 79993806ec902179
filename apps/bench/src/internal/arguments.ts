import { type ParseArgsConfig, parseArgs } from "node:util";
import { BenchUsageError } from "../errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flags (strings and booleans) and positionals of one subcommand. */
export interface ParsedArguments {
  readonly values: Readonly<Record<string, string | boolean | ReadonlyArray<string | boolean> | undefined>>;
  readonly positionals: ReadonlyArray<string>;
}

/** `node:util`'s `parseArgs` in strict mode, its errors as {@link BenchUsageError}. */
export const parseArguments = (argv: ReadonlyArray<string>, options: Options): ParsedArguments => {
  try {
    const parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    throw new BenchUsageError({ option: "command line", reason: (error as Error).message });
  }
};

const text = (parsed: ParsedArguments, option: string): string | undefined => {
  const value = parsed.values[option];
  return typeof value === "string" ? value : undefined;
};

/** A string option, or `fallback`. */
export const stringOption = (parsed: ParsedArguments, option: string, fallback: string): string =>
  text(parsed, option) ?? fallback;

/** A finite number in `[minimum, maximum]`, or `fallback` when absent. */
export const numberOption = (
  parsed: ParsedArguments,
  option: string,
  fallback: number,
  minimum = Number.NEGATIVE_INFINITY,
  maximum = Number.POSITIVE_INFINITY,
): number => {
  const raw = text(parsed, option);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < minimum || value > maximum)
    throw new BenchUsageError({
      option: `--${option}`,
      reason: `expected a number in [${minimum}, ${maximum}], got ${JSON.stringify(raw)}`,
    });
  return value;
};

/** An integer `≥ minimum`, or `fallback` when absent. */
export const integerOption = (
  parsed: ParsedArguments,
  option: string,
  fallback: number,
  minimum = 0,
): number => {
  const value = numberOption(parsed, option, fallback, minimum);
  if (!Number.isInteger(value))
    throw new BenchUsageError({ option: `--${option}`, reason: `expected an integer, got ${value}` });
  return value;
};

/** One of `choices`, or `fallback` when absent. */
export const choiceOption = <Choice extends string>(
  parsed: ParsedArguments,
  option: string,
  choices: ReadonlyArray<Choice>,
  fallback: Choice,
): Choice => {
  const raw = text(parsed, option);
  if (raw === undefined) return fallback;
  if (!(choices as ReadonlyArray<string>).includes(raw))
    throw new BenchUsageError({
      option: `--${option}`,
      reason: `expected one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`,
    });
  return raw as Choice;
};

/** A comma-separated list, or `fallback` when absent. */
export const listOption = (
  parsed: ParsedArguments,
  option: string,
  fallback: ReadonlyArray<string>,
): ReadonlyArray<string> => {
  const raw = text(parsed, option);
  if (raw === undefined) return fallback;
  return raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
};

/** A comma-separated list of integers `≥ minimum`. */
export const integerListOption = (
  parsed: ParsedArguments,
  option: string,
  fallback: ReadonlyArray<number> | undefined,
  minimum = 1,
): ReadonlyArray<number> | undefined => {
  const raw = text(parsed, option);
  if (raw === undefined) return fallback;
  return listOption(parsed, option, []).map((entry) => {
    const value = Number(entry);
    if (!Number.isInteger(value) || value < minimum)
      throw new BenchUsageError({
        option: `--${option}`,
        reason: `expected integers ≥ ${minimum} separated by commas, got ${JSON.stringify(raw)}`,
      });
    return value;
  });
};

/** Every value of a repeatable string option. */
export const repeatedOption = (parsed: ParsedArguments, option: string): ReadonlyArray<string> => {
  const value = parsed.values[option];
  if (Array.isArray(value)) return value.filter((entry): entry is string => typeof entry === "string");
  return typeof value === "string" ? [value] : [];
};

/** Whether a boolean flag is set. */
export const flag = (parsed: ParsedArguments, option: string): boolean => parsed.values[option] === true;
