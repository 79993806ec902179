import { decodeSync } from "@apo-rl/core";
import { Schema } from "effect";

/**
 * The decoder projections LoRA can adapt: attention `q_proj`, `k_proj`, `v_proj`, `o_proj` and MLP
 * `gate_proj`, `up_proj`, `down_proj` (PEFT's `target_modules` names).
 *
 * @since 0.1.0
 * @category lora
 */
export const LoraTargetModule = Schema.Literals([
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "gate_proj",
  "up_proj",
  "down_proj",
]);

/**
 * @since 0.1.0
 * @category lora
 */
export type LoraTargetModule = typeof LoraTargetModule.Type;

/**
 * LoRA settings: `W' = W + (alpha / rank)·B·A` on the target modules of every text-decoder layer,
 * with `A` `[rank, in]` (Kaiming-uniform, bound `1/√in`, seeded) and `B` `[out, rank]` (zeros), and
 * input dropout during training. The vision tower is never adapted.
 *
 * @since 0.1.0
 * @category lora
 */
export const LoraOptions = Schema.Struct({
  rank: Schema.Int.check(Schema.isGreaterThan(0)),
  alpha: Schema.Finite.check(Schema.isGreaterThan(0)),
  /** Probability of zeroing an input element of an adapter during training (default 0). */
  dropout: Schema.optionalKey(
    Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)).check(Schema.isLessThan(1)),
  ),
  /** Default: all seven. */
  targetModules: Schema.optionalKey(Schema.Array(LoraTargetModule).check(Schema.isMinLength(1))),
  /** Seed of `A`'s initialisation (default 0). */
  seed: Schema.optionalKey(Schema.Int),
});

/**
 * @since 0.1.0
 * @category lora
 */
export type LoraOptions = typeof LoraOptions.Type;

/**
 * Decode LoRA options; a bad value throws core's `InvalidInputError` naming the field.
 *
 * @since 0.1.0
 * @category lora
 */
export const decodeLoraOptions: (input: unknown) => LoraOptions = decodeSync(LoraOptions, "LoRA options");

/**
 * Every target module, in PEFT's usual order.
 *
 * @since 0.1.0
 * @category lora
 */
export const ALL_LORA_TARGET_MODULES: ReadonlyArray<LoraTargetModule> = LoraTargetModule.literals;
