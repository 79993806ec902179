import { advantageEstimatorRegistry, policyLossRegistry } from "../componentRegistries.js";
import { grpoEstimator } from "../estimators/grpo.js";
import { klSchedule } from "../klSchedule.js";
import { ppoClip } from "../losses/ppoClip.js";
import type { PolicyGradientOptions } from "../policyGradientOptions.js";
import type { PolicyGradientConfig } from "./policyGradientObjective.js";

/** The engine configuration of decoded GRPO-family options (no DADS, no STCR). */
export const configFromOptions = (name: string, options: PolicyGradientOptions): PolicyGradientConfig => {
  const beta = options.beta;
  return {
    name,
    estimator:
      options.advantageEstimator === undefined
        ? grpoEstimator({ scale: options.advantageScale, eps: options.eps })
        : advantageEstimatorRegistry.create(
            options.advantageEstimator.name,
            options.advantageEstimator.options,
          ),
    overlong: options.overlong,
    policyLoss:
      options.policyLoss === undefined
        ? ppoClip({
            clipLow: options.clipLow,
            clipHigh: options.clipHigh,
            ...(options.dualClip === undefined ? {} : { dualClip: options.dualClip }),
          })
        : policyLossRegistry.create(options.policyLoss.name, options.policyLoss.options),
    aggregation: options.aggregation,
    maxLength: options.maxLength,
    klEstimator: options.klEstimator,
    klPlacement: options.klPlacement,
    beta: options.klSchedule === undefined ? () => beta : klSchedule(options.klSchedule),
    entropyCoefficient: options.entropyCoefficient,
    topEntropyFraction: options.topEntropyFraction,
    rolloutCorrection: options.rolloutCorrection,
  };
};
