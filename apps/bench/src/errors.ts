import { Schema } from "effect";

/**
 * The command line cannot be understood: an unknown subcommand or option, a missing or bad value.
 * The CLI prints it with the subcommand's help and exits with status 2.
 *
 * @since 0.1.0
 * @category errors
 */
export class BenchUsageError extends Schema.TaggedError<BenchUsageError>()("BenchUsageError", {
  /** The option or argument at fault (`--steps`, `subcommand`, …). */
  option: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `${this.option}: ${this.reason}`;
  }
}

/**
 * A benchmark cannot start: its policy, dataset or model cannot be built (a missing checkpoint
 * directory, an unreadable dataset, a model that fits no backend).
 *
 * @since 0.1.0
 * @category errors
 */
export class BenchSetupError extends Schema.TaggedError<BenchSetupError>()("BenchSetupError", {
  /** What could not be built: `policy`, `dataset`, `model`, … */
  component: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `cannot set up the ${this.component}: ${this.reason}`;
  }
}
