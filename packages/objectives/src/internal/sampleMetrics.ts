import { mean } from "./groups.js";
import type { ShapedSamples } from "./shapeSamples.js";

/** The metrics computed from the float64 sample-level quantities. */
export const sampleMetrics = (shaped: ShapedSamples): Record<string, number> => {
  const positive = shaped.advantages.flatMap((advantage, sample) => (advantage > 0 ? [sample] : []));
  const negative = shaped.advantages.filter((advantage) => advantage < 0);
  const penalised = shaped.stcrScales.filter((_, sample) => shaped.stcrPenalised[sample]);
  return {
    advantagePositiveMean: mean(positive.map((sample) => shaped.advantages[sample]!)),
    advantageNegativeMean: mean(negative),
    dadsWeightPositiveMean:
      positive.length === 0 ? 1 : mean(positive.map((sample) => shaped.klWeights[sample]!)),
    stcrScalePenalisedMean: penalised.length === 0 ? 1 : mean(penalised),
    zeroSpreadGroupFraction: shaped.zeroSpreadGroupFraction,
    rewardMean: mean(shaped.rewards),
  };
};
