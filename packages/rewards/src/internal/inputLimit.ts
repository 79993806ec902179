import type { Verification } from "@apo-rl/core";

/** The verdict for an input over the length bound: reward 0, reason `too-long`. */
export const tooLong = (
  response: string,
  reference: string,
  maxInputLength: number,
): Verification | undefined =>
  response.length > maxInputLength || reference.length > maxInputLength
    ? {
        reward: 0,
        correct: false,
        details: {
          reason: "too-long",
          maxInputLength,
          responseLength: response.length,
          referenceLength: reference.length,
        },
      }
    : undefined;
