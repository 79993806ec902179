import { klSchedule } from "../klSchedule.js";
import type { PolicyGradientOptions } from "../policyGradientOptions.js";
import type { PolicyGradientConfig } from "./policyGradientObjective.js";

/** The engine configuration of decoded GRPO-family options (no DADS, no STCR). */
export const configFromOptions = (name: string, options: PolicyGradientOptions): PolicyGradientConfig => {
  const beta = options.beta;
  return {
    name,
    advantageScale: options.advantageScale,
    eps: options.eps,
    overlong: options.overlong,
    clipLow: options.clipLow,
    clipHigh: options.clipHigh,
    dualClip: options.dualClip,
    aggregation: options.aggregation,
    maxLength: options.maxLength,
    klEstimator: options.klEstimator,
    klPlacement: options.klPlacement,
    beta: options.klSchedule === undefined ? () => beta : klSchedule(options.klSchedule),
    rolloutCorrection: options.rolloutCorrection,
  };
};
