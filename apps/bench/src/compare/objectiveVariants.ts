import { BenchUsageError } from "../errors.js";

/**
 * One arm of `apo-bench compare`: a registered objective with options.
 *
 * @since 0.1.0
 * @category compare
 */
export interface ObjectiveVariant {
  /** The label in tables and charts. */
  readonly label: string;
  /** The objective's registry name. */
  readonly objective: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly description: string;
}

/**
 * The arms of the paper's comparison: GRPO, GRPO-D, APO, and APO without DADS / without STCR.
 *
 * @since 0.1.0
 * @category compare
 */
export const objectiveVariants: ReadonlyArray<ObjectiveVariant> = [
  { label: "grpo", objective: "grpo", options: {}, description: "GRPO (reference defaults)" },
  { label: "grpoD", objective: "grpoD", options: {}, description: "GRPO with a dynamic KL coefficient" },
  { label: "apo", objective: "apo", options: {}, description: "APO: GRPO + DADS + STCR" },
  {
    label: "apo-no-dads",
    objective: "apo",
    options: { dads: false },
    description: "APO without DADS (STCR only)",
  },
  {
    label: "apo-no-stcr",
    objective: "apo",
    options: { stcr: false },
    description: "APO without STCR (DADS only)",
  },
];

/**
 * Split a comma-separated list of objective labels, keeping the commas inside brackets:
 * `grpo,apo[stcrBase=1.001,beta=0.04]` → `["grpo", "apo[stcrBase=1.001,beta=0.04]"]`.
 *
 * @since 0.1.0
 * @category compare
 */
export const splitObjectiveList = (raw: string): ReadonlyArray<string> => {
  const labels: string[] = [];
  let depth = 0;
  let current = "";
  for (const character of raw) {
    if (character === "[") depth++;
    if (character === "]") depth--;
    if (depth < 0)
      throw new BenchUsageError({
        option: "--objectives",
        reason: `unbalanced "]" in ${JSON.stringify(raw)}`,
      });
    if (character === "," && depth === 0) {
      labels.push(current.trim());
      current = "";
    } else current += character;
  }
  if (depth !== 0)
    throw new BenchUsageError({ option: "--objectives", reason: `unclosed "[" in ${JSON.stringify(raw)}` });
  labels.push(current.trim());
  return labels.filter((label) => label !== "");
};

/** `1.001` → 1.001, `true`/`false` → booleans, anything else stays a string. */
const optionValue = (text: string): unknown => {
  if (text === "true") return true;
  if (text === "false") return false;
  const number = Number(text);
  return text !== "" && Number.isFinite(number) ? number : text;
};

/** `name[key=value,…]` → the name and its options (none without brackets). */
const parseLabel = (label: string): { readonly name: string; readonly options: Record<string, unknown> } => {
  const match = /^([^[\]]+)(?:\[(.*)\])?$/.exec(label);
  if (match === null)
    throw new BenchUsageError({
      option: "--objectives",
      reason: `${JSON.stringify(label)} is not <objective> or <objective>[key=value,…]`,
    });
  const options: Record<string, unknown> = {};
  const body = match[2]?.trim() ?? "";
  if (body !== "")
    for (const pair of body.split(",")) {
      const [key, ...rest] = pair.split("=");
      const name = key?.trim() ?? "";
      if (name === "" || rest.length !== 1)
        throw new BenchUsageError({
          option: "--objectives",
          reason: `${JSON.stringify(pair.trim())} in ${JSON.stringify(label)} is not key=value`,
        });
      options[name] = optionValue(rest[0]!.trim());
    }
  return { name: match[1]!.trim(), options };
};

/**
 * The variants named in a list of labels: a label of {@link objectiveVariants} or any other
 * registered objective name (its default options), optionally followed by options in brackets that
 * are merged over the variant's own — `apo[stcrBase=1.001,beta=0.04]`, `apo-no-stcr[beta=0.01]`.
 * The label is kept as written, so each variant is its own row.
 *
 * @since 0.1.0
 * @category compare
 */
export const selectVariants = (labels: ReadonlyArray<string>): ReadonlyArray<ObjectiveVariant> => {
  if (labels.length === 0)
    throw new BenchUsageError({ option: "--objectives", reason: "name at least one objective" });
  const duplicate = labels.find((label, index) => labels.indexOf(label) !== index);
  if (duplicate !== undefined)
    throw new BenchUsageError({
      option: "--objectives",
      reason: `${JSON.stringify(duplicate)} is listed twice`,
    });
  return labels.map((label) => {
    const { name, options } = parseLabel(label);
    const base = objectiveVariants.find((variant) => variant.label === name) ?? {
      label: name,
      objective: name,
      options: {},
      description: `${name} (registry defaults)`,
    };
    if (Object.keys(options).length === 0) return base;
    return {
      label,
      objective: base.objective,
      options: { ...base.options, ...options },
      description: `${base.description} with ${JSON.stringify(options)}`,
    };
  });
};
