import { type ObjectiveMetricName as CoreName, objectiveMetricNames as coreMetricNames } from "@apo-rl/core";

/**
 * The metric names of the objective contract (`@apo-rl/core`'s `objectiveMetricNames`): every
 * objective of this package reports them. See `@apo-rl/core` for what each one means.
 *
 * @since 0.1.0
 * @category metrics
 */
export const objectiveMetricNames: typeof coreMetricNames = coreMetricNames;

/**
 * @since 0.1.0
 * @category metrics
 */
export type ObjectiveMetricName = CoreName;
