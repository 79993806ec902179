import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const fixtureDirectory = (name: "image" | "text_only"): string =>
  fileURLToPath(new URL(`../../fixtures/qwen2_5_vl/${name}`, import.meta.url));

type Nested = number | ReadonlyArray<Nested>;

export interface Fixture {
  readonly inputs: {
    readonly input_ids: number[];
    readonly pixel_values?: number[][];
    readonly image_grid_thw?: number[][];
  };
  readonly position_ids: number[][];
  readonly rope_deltas: number;
  readonly text_rope_debug: { readonly cos: number[][][]; readonly sin: number[][][] };
  readonly image_embeds?: number[][];
  readonly vision_debug?: {
    readonly window_index: number[];
    readonly cu_window_seqlens: number[];
    readonly cu_seqlens: number[];
    readonly rot_pos_emb_theta: number[][];
    readonly patch_embed_out: number[][];
    readonly block_outputs_window_order: number[][][];
    readonly merger_out_window_order: number[][];
  };
  readonly logits: number[][];
  readonly token_logprobs: number[];
  readonly text_hidden_states: number[][][];
  readonly argmax_per_position: number[];
  readonly greedy_new_ids: number[];
  readonly greedy_step_logits: number[][];
  readonly decode_input_position_ids: number[];
  readonly full_sequence_position_ids: number[][];
  readonly weight_names: string[];
}

const cache = new Map<string, Fixture>();

/** Parse a fixture once per test file. */
export const loadFixture = (name: "image" | "text_only"): Fixture => {
  let fixture = cache.get(name);
  if (fixture === undefined) {
    fixture = JSON.parse(readFileSync(`${fixtureDirectory(name)}/fixture.json`, "utf8")) as Fixture;
    cache.set(name, fixture);
  }
  return fixture;
};

/** Largest absolute difference between a tensor's values and a nested reference array. */
export const maxAbsDiff = (actual: ArrayLike<number>, expected: Nested): number => {
  const flat = (expected as ReadonlyArray<Nested>).flat(Number.POSITIVE_INFINITY as 1) as number[];
  if (flat.length !== actual.length) throw new Error(`length ${actual.length} vs expected ${flat.length}`);
  let worst = 0;
  for (let index = 0; index < flat.length; index++) {
    const diff = Math.abs(actual[index]! - flat[index]!);
    if (!(diff <= worst)) worst = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
  }
  return worst;
};
