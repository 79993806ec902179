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
 * The variants named in a comma-separated list (labels of {@link objectiveVariants}, or any other
 * registered objective name with its default options).
 *
 * @since 0.1.0
 * @category compare
 */
export const selectVariants = (labels: ReadonlyArray<string>): ReadonlyArray<ObjectiveVariant> => {
  if (labels.length === 0)
    throw new BenchUsageError({ option: "--objectives", reason: "name at least one objective" });
  return labels.map(
    (label) =>
      objectiveVariants.find((variant) => variant.label === label) ?? {
        label,
        objective: label,
        options: {},
        description: `${label} (registry defaults)`,
      },
  );
};
