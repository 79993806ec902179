import * as tf from "@tensorflow/tfjs-core";

/**
 * Rotated keys and values of one decoder layer, `[B, kvHeads, T, headDim]`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Qwen25VLLayerCache {
  readonly key: tf.Tensor4D;
  readonly value: tf.Tensor4D;
}

/**
 * The key/value cache of an incremental decode. `length` positions are cached (padding
 * included); the next token of batch row b sits at absolute index `length` and gets the rotary
 * position `length + ropeDeltas[b]` in all three M-RoPE rows. Keys are stored already rotated,
 * `[B, kvHeads, length, headDim]` per layer. A forward with `{ cache }` returns a new cache and
 * leaves the one passed in untouched: dispose each with {@link disposeQwen25VLCache} when done.
 *
 * @since 0.1.0
 * @category model
 */
export interface Qwen25VLCache {
  readonly length: number;
  readonly batchSize: number;
  /** `[B][length]`: 1 for attended positions, 0 for padding. */
  readonly attentionMask: ReadonlyArray<ReadonlyArray<number>>;
  readonly ropeDeltas: ReadonlyArray<number>;
  readonly layers: ReadonlyArray<Qwen25VLLayerCache>;
}

/**
 * Release the tensors of a cache.
 *
 * @since 0.1.0
 * @category model
 */
export const disposeQwen25VLCache = (cache: Qwen25VLCache): void => {
  for (const layer of cache.layers) {
    layer.key.dispose();
    layer.value.dispose();
  }
};

/**
 * A new cache made of the given batch rows of `cache`, in that order; rows may repeat (e.g. `n`
 * samples sharing one prompt's prefill: `[0,0,0,1,1,1]`). The original cache is unchanged.
 *
 * @since 0.1.0
 * @category model
 */
export const selectQwen25VLCacheRows = (cache: Qwen25VLCache, rows: ReadonlyArray<number>): Qwen25VLCache => {
  for (const row of rows) {
    if (!Number.isInteger(row) || row < 0 || row >= cache.batchSize) {
      throw new RangeError(`cache row ${row} is outside 0…${cache.batchSize - 1}`);
    }
  }
  const layers = tf.tidy(() => {
    const index = tf.tensor1d(rows as number[], "int32");
    return cache.layers.map((layer) => ({
      key: tf.gather(layer.key, index) as tf.Tensor4D,
      value: tf.gather(layer.value, index) as tf.Tensor4D,
    }));
  });
  return {
    length: cache.length,
    batchSize: rows.length,
    attentionMask: rows.map((row) => cache.attentionMask[row]!),
    ropeDeltas: rows.map((row) => cache.ropeDeltas[row]!),
    layers,
  };
};
