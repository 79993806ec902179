import { NonFiniteWeightError } from "../../safetensors/errors.js";

/** Throw {@link NonFiniteWeightError} naming `tensor` when `data` holds NaN or ±Infinity. */
export const assertFiniteWeight = (data: Float32Array, file: string, tensor: string): void => {
  for (let index = 0; index < data.length; index++) {
    const value = data[index]!;
    if (value - value !== 0)
      throw new NonFiniteWeightError({
        file,
        tensor,
        index,
        reason: `holds ${value} at index ${index}; the checkpoint is corrupt (a diverged run?)`,
      });
  }
};
