import * as tf from "@tensorflow/tfjs-core";

interface StridedSliceAttributes {
  readonly begin: Array<number>;
  readonly end: Array<number>;
  readonly strides: Array<number>;
  readonly beginMask: number;
  readonly endMask: number;
  readonly ellipsisMask: number;
  readonly newAxisMask: number;
  readonly shrinkAxisMask: number;
}

/** Moves `axis` to the front (a permutation) and its inverse. */
const frontPermutation = (rank: number, axis: number): { forward: Array<number>; inverse: Array<number> } => {
  const forward = [
    axis,
    ...Array.from({ length: rank }, (_, index) => index).filter((index) => index !== axis),
  ];
  const inverse = forward.map((_, index) => forward.indexOf(index));
  return { forward, inverse };
};

/**
 * Scatters `gradient` (already shaped per input axis) back into the input's shape, one axis at a
 * time: along an axis, entry `k` of the slice came from input index `begin + k·stride`.
 */
const scatterBack = (
  gradient: tf.Tensor,
  inputShape: ReadonlyArray<number>,
  begin: ReadonlyArray<number>,
  strides: ReadonlyArray<number>,
): tf.Tensor => {
  let result = gradient;
  inputShape.forEach((size, axis) => {
    const count = result.shape[axis] as number;
    const start = begin[axis] as number;
    const stride = strides[axis] as number;
    if (count === size && start === 0 && stride === 1) return;
    const sources = tf.tensor1d(
      Array.from({ length: count }, (_, k) => start + k * stride),
      "int32",
    );
    const { forward, inverse } = frontPermutation(result.rank, axis);
    const moved = axis === 0 ? result : tf.transpose(result, forward);
    const scattered = tf.unsortedSegmentSum(moved, sources, size);
    result = axis === 0 ? scattered : tf.transpose(scattered, inverse);
  });
  return result;
};

/**
 * The gradient of `StridedSlice`, which tfjs-core 4.22 does not define: every element of the
 * upstream gradient goes back to the input element the slice read it from; the rest is zero.
 * Masks (begin/end/ellipsis/new-axis/shrink) are resolved by tfjs's own `slice_util.sliceInfo`.
 */
export const stridedSliceGradient: tf.GradConfig = {
  kernelName: "StridedSlice",
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const x = saved[0] as tf.Tensor;
    const a = attrs as unknown as StridedSliceAttributes;
    const upstream = Array.isArray(dy) ? (dy[0] as tf.Tensor) : dy;
    return {
      x: () =>
        tf.tidy(() => {
          const info = tf.slice_util.sliceInfo(
            x.shape,
            a.begin,
            a.end,
            a.strides,
            a.beginMask,
            a.endMask,
            a.ellipsisMask,
            a.newAxisMask,
            a.shrinkAxisMask,
          );
          const perAxis = tf.slice_util
            .computeOutShape(info.begin, info.end, info.strides)
            .map((n) => Math.max(n, 0));
          if (perAxis.some((n) => n === 0)) return tf.zerosLike(x);
          return scatterBack(tf.reshape(upstream, perAxis), x.shape, info.begin, info.strides);
        }),
    };
  },
};

/** Registers {@link stridedSliceGradient} unless tfjs (a later version) already has one. */
export const registerStridedSliceGradient = (): void => {
  if (tf.getGradient("StridedSlice") === undefined) tf.registerGradient(stridedSliceGradient);
};
