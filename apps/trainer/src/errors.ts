import { Schema } from "effect";

/**
 * A configuration file or override cannot be read or applied (syntax, missing file, bad override).
 * Values that do not match the schema fail with core's `InvalidInputError`, which names the key.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  /** The file or override at fault. */
  source: Schema.String,
  reason: Schema.String,
  /** The underlying error, when there is one (`apo-train --verbose` prints the chain). */
  cause: Schema.optionalKey(Schema.Defect()),
}) {
  override get message(): string {
    return `${this.source}: ${this.reason}`;
  }
}

/**
 * Training stopped because the loss or the gradients were NaN/Inf for too many steps in a row.
 * No checkpoint is written from a poisoned state.
 *
 * @since 0.1.0
 * @category errors
 */
export class NonFiniteTrainingError extends Schema.TaggedError<NonFiniteTrainingError>()(
  "NonFiniteTrainingError",
  {
    step: Schema.Number,
    consecutive: Schema.Number,
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `Training stopped at step ${this.step}: ${this.consecutive} consecutive steps with a non-finite loss or gradient (${this.reason}). The last checkpoint is untouched; lower optimizer.lr, check the data, or raise train.maxConsecutiveNonFinite.`;
  }
}

/**
 * A checkpoint cannot be written, found or restored.
 *
 * @since 0.1.0
 * @category errors
 */
export class CheckpointError extends Schema.TaggedError<CheckpointError>()("CheckpointError", {
  path: Schema.String,
  reason: Schema.String,
  /** The underlying error, when there is one. */
  cause: Schema.optionalKey(Schema.Defect()),
}) {
  override get message(): string {
    return `Checkpoint ${this.path}: ${this.reason}`;
  }
}

/**
 * A component of the run (policy, objective, verifier, data, backend) cannot be built from the config.
 *
 * @since 0.1.0
 * @category errors
 */
export class TrainerSetupError extends Schema.TaggedError<TrainerSetupError>()("TrainerSetupError", {
  component: Schema.String,
  reason: Schema.String,
  /** The underlying error, when there is one. */
  cause: Schema.optionalKey(Schema.Defect()),
}) {
  override get message(): string {
    return `Cannot set up ${this.component}: ${this.reason}`;
  }
}

/**
 * The run directory is locked by another run (or the lock cannot be taken).
 *
 * @since 0.1.0
 * @category errors
 */
export class RunLockError extends Schema.TaggedError<RunLockError>()("RunLockError", {
  /** The lock file. */
  path: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Run directory lock ${this.path}: ${this.reason}`;
  }
}

/**
 * The run directory or its `checkpoints/` cannot be written, or the disk has no room for a
 * checkpoint: found before the first step.
 *
 * @since 0.1.0
 * @category errors
 */
export class PreflightError extends Schema.TaggedError<PreflightError>()("PreflightError", {
  path: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Preflight check failed for ${this.path}: ${this.reason}`;
  }
}

/**
 * `--resume` with a config that differs from the checkpoint's in keys that change the training
 * trajectory (pass `--allow-config-change` to accept them), or asks for fewer steps than done.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResumeConfigError extends Schema.TaggedError<ResumeConfigError>()("ResumeConfigError", {
  /** The run's saved `config.json`. */
  path: Schema.String,
  reason: Schema.String,
  differences: Schema.Array(Schema.String),
}) {
  override get message(): string {
    return `Cannot resume with this config (${this.path}): ${this.reason}${this.differences
      .map((difference) => `\n  ${difference}`)
      .join("")}`;
  }
}

/**
 * A plugin (`--plugin` or `plugins:`) could not be found or failed while loading.
 *
 * @since 0.2.0
 * @category errors
 */
export class PluginError extends Schema.TaggedError<PluginError>()("PluginError", {
  /** The plugin as given (a path or a package name). */
  plugin: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `plugin ${JSON.stringify(this.plugin)}: ${this.reason}`;
  }
}
