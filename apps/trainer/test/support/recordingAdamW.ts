import type * as tf from "@tensorflow/tfjs-core";
import { AdamW } from "../../src/AdamW.js";

/** AdamW that keeps a copy of the gradients of its first update. */
export class RecordingAdamW extends AdamW {
  gradients: Array<tf.Tensor> = [];

  override update(gradients: ReadonlyArray<tf.Tensor>, lr: number): void {
    if (this.gradients.length === 0) this.gradients = gradients.map((gradient) => gradient.clone());
    super.update(gradients, lr);
  }

  /** The recorded gradients as one flat array (releasing the copies). */
  async takeFlatGradients(): Promise<Array<number>> {
    const flat = (
      await Promise.all(this.gradients.map(async (gradient) => Array.from(await gradient.data())))
    ).flat();
    for (const gradient of this.gradients) gradient.dispose();
    this.gradients = [];
    return flat;
  }
}

/** A {@link RecordingAdamW} over `parameters` with the test step's settings (betas 0.9/0.999, eps 1e-8, no decay). */
export const recordingOptimizer = (parameters: ReadonlyArray<tf.Variable>): RecordingAdamW =>
  new RecordingAdamW(parameters, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });

/** `‖actual − expected‖ / ‖expected‖`, and `‖expected‖²` (a zero expectation proves nothing). */
export const relativeDifference = (
  actual: ReadonlyArray<number>,
  expected: ReadonlyArray<number>,
): { readonly relative: number; readonly squaredNorm: number } => {
  let difference = 0;
  let squaredNorm = 0;
  expected.forEach((value, index) => {
    difference += (actual[index]! - value) ** 2;
    squaredNorm += value ** 2;
  });
  return { relative: Math.sqrt(difference / squaredNorm), squaredNorm };
};
