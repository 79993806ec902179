import * as tf from "@tensorflow/tfjs-core";

/**
 * AdamW hyper-parameters (learning rate is given per step, from the schedule).
 *
 * @since 0.1.0
 * @category optimizer
 */
export interface AdamWOptions {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}

/**
 * The moments of one parameter, as saved to disk.
 *
 * @since 0.1.0
 * @category optimizer
 */
export interface AdamWMoments {
  readonly name: string;
  readonly shape: ReadonlyArray<number>;
  readonly firstMoment: Float32Array;
  readonly secondMoment: Float32Array;
}

/**
 * The complete optimizer state: the number of updates taken and each parameter's moments.
 *
 * @since 0.1.0
 * @category optimizer
 */
export interface AdamWState {
  readonly step: number;
  readonly moments: ReadonlyArray<AdamWMoments>;
}

const zerosVariable = (parameter: tf.Variable): tf.Variable => {
  const zeros = tf.zerosLike(parameter);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
};

/**
 * AdamW (Loshchilov & Hutter) over tfjs `Variable`s, with decoupled weight decay and bias correction.
 * For update `t = 1, 2, …` with gradient `g` and learning rate `lr`:
 * `m ← β1 m + (1 − β1) g`, `v ← β2 v + (1 − β2) g²`, `m̂ = m / (1 − β1^t)`, `v̂ = v / (1 − β2^t)`,
 * `θ ← θ − lr · λ · θ − lr · m̂ / (√v̂ + ε)` (weight decay uses the parameter before the update,
 * as PyTorch's `AdamW`). The state is read and restored in memory (`state`, `restore`);
 * `AdamW` adds saving to a directory (Node).
 *
 * @since 0.2.0
 * @category optimizer
 */
export class InMemoryAdamW {
  readonly parameters: ReadonlyArray<tf.Variable>;
  readonly options: AdamWOptions;
  #step = 0;
  readonly #firstMoments: ReadonlyArray<tf.Variable>;
  readonly #secondMoments: ReadonlyArray<tf.Variable>;

  constructor(parameters: ReadonlyArray<tf.Variable>, options: AdamWOptions) {
    this.parameters = parameters;
    this.options = options;
    this.#firstMoments = parameters.map(zerosVariable);
    this.#secondMoments = parameters.map(zerosVariable);
  }

  /** Number of updates taken so far. */
  get step(): number {
    return this.#step;
  }

  /** Apply one update with `gradients[k]` for `parameters[k]` at learning rate `lr`. */
  update(gradients: ReadonlyArray<tf.Tensor>, lr: number): void {
    if (gradients.length !== this.parameters.length)
      throw new Error(`AdamW: expected ${this.parameters.length} gradients, got ${gradients.length}`);
    this.#step += 1;
    const [beta1, beta2] = this.options.betas;
    const firstCorrection = 1 - beta1 ** this.#step;
    const secondCorrection = 1 - beta2 ** this.#step;
    this.parameters.forEach((parameter, index) => {
      const firstMoment = this.#firstMoments[index]!;
      const secondMoment = this.#secondMoments[index]!;
      tf.tidy(() => {
        const gradient = gradients[index]!;
        const first = tf.add(tf.mul(firstMoment, beta1), tf.mul(gradient, 1 - beta1));
        const second = tf.add(tf.mul(secondMoment, beta2), tf.mul(tf.square(gradient), 1 - beta2));
        const direction = tf.div(
          tf.div(first, firstCorrection),
          tf.add(tf.sqrt(tf.div(second, secondCorrection)), this.options.eps),
        );
        const decayed = tf.mul(parameter, 1 - lr * this.options.weightDecay);
        parameter.assign(tf.sub(decayed, tf.mul(direction, lr)));
        firstMoment.assign(first);
        secondMoment.assign(second);
      });
    });
  }

  /** A copy of the state, read (asynchronously) from the backend. */
  async state(): Promise<AdamWState> {
    const step = this.#step;
    const moments = await Promise.all(
      this.parameters.map(async (parameter, index) => ({
        name: parameter.name,
        shape: parameter.shape,
        firstMoment: (await this.#firstMoments[index]!.data()) as Float32Array,
        secondMoment: (await this.#secondMoments[index]!.data()) as Float32Array,
      })),
    );
    return { step, moments };
  }

  /** Replace the state; moments must match the parameters' shapes in order. */
  restore(state: AdamWState): void {
    if (state.moments.length !== this.parameters.length)
      throw new Error(
        `AdamW state has ${state.moments.length} parameters, the policy has ${this.parameters.length}`,
      );
    state.moments.forEach((moments, index) => {
      const parameter = this.parameters[index]!;
      if (moments.shape.join(",") !== parameter.shape.join(","))
        throw new Error(
          `AdamW state for parameter ${index} (${moments.name}) has shape [${moments.shape}], the policy's is [${parameter.shape}]`,
        );
      tf.tidy(() => {
        this.#firstMoments[index]!.assign(tf.tensor(moments.firstMoment, parameter.shape, "float32"));
        this.#secondMoments[index]!.assign(tf.tensor(moments.secondMoment, parameter.shape, "float32"));
      });
    });
    this.#step = state.step;
  }

  /** Release the moment variables (not the parameters). */
  dispose(): void {
    for (const variable of [...this.#firstMoments, ...this.#secondMoments]) variable.dispose();
  }
}
