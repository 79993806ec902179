import type { PolicyBatch } from "@apo-rl/core";

/**
 * The phases of a training step, in order. An RL step runs all of them; an SFT step only
 * `lossBackward` and `update`.
 *
 * @since 0.2.0
 * @category training
 */
export type StepPhase =
  | "rollout"
  | "score"
  | "advantages"
  | "reference"
  | "oldLogprobs"
  | "lossBackward"
  | "update";

/**
 * What a hook learns about a phase.
 *
 * @since 0.2.0
 * @category training
 */
export interface PhaseReport {
  readonly phase: StepPhase;
  /** 0-based step. */
  readonly step: number;
  /** Wall seconds of the phase (hooks excluded). */
  readonly seconds: number;
  /** The micro-batches the step has planned so far (empty before `advantages`). */
  readonly microBatches: ReadonlyArray<PolicyBatch>;
}

/**
 * Per-phase hooks of a training step, e.g. to time phases (`apo-bench perf train-step`) or to look
 * at the planned micro-batches. Time spent in hooks is not counted in any phase nor in the step.
 *
 * @since 0.2.0
 * @category training
 */
export interface StepHooks {
  readonly beforePhase?: (phase: StepPhase, step: number) => void | Promise<void>;
  readonly afterPhase?: (report: PhaseReport) => void | Promise<void>;
}

/** Runs phases with their hooks and keeps the time spent in hooks apart. */
export class PhaseClock {
  private hookSeconds = 0;
  private readonly started = performance.now();

  constructor(
    private readonly hooks: StepHooks | undefined,
    private readonly step: number,
  ) {}

  async run<A>(
    phase: StepPhase,
    microBatches: () => ReadonlyArray<PolicyBatch>,
    body: () => A | Promise<A>,
  ): Promise<A> {
    if (this.hooks?.beforePhase !== undefined) {
      const hookStart = performance.now();
      await this.hooks.beforePhase(phase, this.step);
      this.hookSeconds += (performance.now() - hookStart) / 1000;
    }
    const start = performance.now();
    const result = await body();
    const seconds = (performance.now() - start) / 1000;
    if (this.hooks?.afterPhase !== undefined) {
      const hookStart = performance.now();
      await this.hooks.afterPhase({ phase, step: this.step, seconds, microBatches: microBatches() });
      this.hookSeconds += (performance.now() - hookStart) / 1000;
    }
    return result;
  }

  /** Seconds since the clock started, minus the time spent in hooks. */
  elapsed(): number {
    return (performance.now() - this.started) / 1000 - this.hookSeconds;
  }
}
