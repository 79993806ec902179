import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend, testBackends } from "../src/index.js";
import { conv2d64, type Dense, dot, einsum64, finiteDifference, seededValues } from "./support/float64.js";

const backends = await testBackends();

const expectClose = (actual: ArrayLike<number>, expected: ReadonlyArray<number>, tolerance = 1e-4) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, index) => {
    expect(Math.abs((actual[index] as number) - value)).toBeLessThanOrEqual(
      tolerance * (1 + Math.abs(value)),
    );
  });
};

/** Runs `body` and checks it leaves no tensor behind. */
const withoutLeaks = async (body: () => Promise<void>) => {
  const before = tf.memory().numTensors;
  await body();
  expect(tf.memory().numTensors).toBe(before);
};

describe.each(backends)("kernels and gradients on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it("differentiates an embedding lookup (gather + weighted sum) like a hand scatter-add", async () => {
    const vocabulary = 7;
    const hidden = 5;
    const ids = [3, 0, 3, 6, 1, 3, 0, 5, 6];
    const table = seededValues(vocabulary * hidden, 1);
    const weights = seededValues(ids.length * hidden, 2);
    // d/dtable[v, h] Σ_i Σ_h' table[ids[i], h'] · weights[i, h'] = Σ_{i : ids[i] = v} weights[i, h]
    const expected = new Array<number>(vocabulary * hidden).fill(0);
    ids.forEach((id, row) => {
      for (let h = 0; h < hidden; h++) expected[id * hidden + h] += weights[row * hidden + h] as number;
    });
    await withoutLeaks(async () => {
      const gradient = tf.tidy(() => {
        const embedding = tf.tensor2d(table, [vocabulary, hidden]);
        const weight = tf.tensor2d(weights, [ids.length, hidden]);
        const indices = tf.tensor1d(ids, "int32");
        return tf.grad((matrix: tf.Tensor) => tf.sum(tf.mul(tf.gather(matrix, indices), weight)))(embedding);
      });
      expect(gradient.shape).toEqual([vocabulary, hidden]);
      expectClose(await gradient.data(), expected, 1e-6);
      gradient.dispose();
    });
  });

  it("differentiates an embedding lookup at Qwen's vocabulary size (V = 151,936) in one pass", async () => {
    const vocabulary = 151_936;
    const hidden = 4;
    const ids = [151_935, 7, 151_935, 0, 99_999];
    const weights = seededValues(ids.length * hidden, 5);
    await withoutLeaks(async () => {
      const started = performance.now();
      const gradient = tf.tidy(() => {
        const embedding = tf.zeros([vocabulary, hidden]);
        const weight = tf.tensor2d(weights, [ids.length, hidden]);
        return tf.grad((matrix: tf.Tensor) =>
          tf.sum(tf.mul(tf.gather(matrix, tf.tensor1d(ids, "int32")), weight)),
        )(embedding);
      });
      const values = await gradient.data();
      // tfjs's own cpu kernel loops over all 151,936 segments (minutes); the replacement is one pass.
      expect(performance.now() - started).toBeLessThan(20_000);
      const row = (id: number) => Array.from(values.slice(id * hidden, (id + 1) * hidden));
      const weightRow = (i: number) => weights.slice(i * hidden, (i + 1) * hidden);
      expectClose(
        row(151_935),
        weightRow(0).map((value, k) => value + (weightRow(2)[k] as number)),
        1e-6,
      );
      expectClose(row(7), weightRow(1), 1e-6);
      expectClose(row(0), weightRow(3), 1e-6);
      expectClose(row(99_999), weightRow(4), 1e-6);
      // Every other row is zero.
      const touched = [151_935, 7, 0, 99_999].flatMap(row).reduce((sum, value) => sum + Math.abs(value), 0);
      const total = Array.from(values).reduce((sum, value) => sum + Math.abs(value), 0);
      expect(Math.abs(total - touched)).toBeLessThan(1e-6);
      gradient.dispose();
    });
  });

  it("differentiates a batched lookup gather(table, ids [B, T]) and gatherV2 with batchDims", async () => {
    const ids = [
      [2, 0, 2],
      [1, 1, 3],
    ];
    const table = seededValues(4 * 3, 3);
    await withoutLeaks(async () => {
      const [lookup, batched] = tf.tidy(() => {
        const embedding = tf.tensor2d(table, [4, 3]);
        const indices = tf.tensor2d(ids, [2, 3], "int32");
        // Σ over [B, T, H] of gather(table, ids): each row v receives (count of v in ids) ones.
        const first = tf.grad((matrix: tf.Tensor) => tf.sum(tf.gather(matrix, indices)))(embedding);
        // batchDims = 1: x [2, 4], ids [2, 3] picks x[b, ids[b, t]].
        const x = tf.tensor2d(table.slice(0, 8), [2, 4]);
        const second = tf.grad((matrix: tf.Tensor) => tf.sum(tf.gather(matrix, indices, 1, 1)))(x);
        return [first, second];
      });
      expectClose(await lookup.data(), [1, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1]);
      expectClose(await batched.data(), [1, 0, 2, 0, 0, 2, 0, 1]);
      tf.dispose([lookup, batched]);
    });
  });

  it("adds 26 tensors with addN (more inputs than a webgpu shader has storage buffers)", async () => {
    // webgpu binds each input as a storage buffer; a gradient-norm sum has one input per parameter.
    const parts = Array.from({ length: 26 }, (_, index) => seededValues(5, 40 + index));
    const expected = parts[0]!.map((_, k) => parts.reduce((sum, part) => sum + (part[k] as number), 0));
    await withoutLeaks(async () => {
      const tensors = parts.map((values) => tf.tensor1d(values));
      // Fill the output's buffer pool with a stale sum first: a skipped kernel would leave it there.
      const stale = tf.addN(tensors.slice(0, 3));
      await stale.data();
      stale.dispose();
      const sum = tf.addN(tensors);
      expectClose(await sum.data(), expected, 1e-6);
      tf.dispose([sum, ...tensors]);
    });
  });

  it("computes unsortedSegmentSum, dropping ids outside [0, numSegments)", async () => {
    const values = seededValues(6 * 2, 4);
    const segmentIds = [1, 0, 1, -1, 2, 4];
    const expected = new Array<number>(3 * 2).fill(0);
    segmentIds.forEach((segment, row) => {
      if (segment < 0 || segment >= 3) return;
      for (let k = 0; k < 2; k++) expected[segment * 2 + k] += values[row * 2 + k] as number;
    });
    await withoutLeaks(async () => {
      const [floats, integers] = tf.tidy(() => [
        tf.unsortedSegmentSum(tf.tensor2d(values, [6, 2]), tf.tensor1d(segmentIds, "int32"), 3),
        tf.unsortedSegmentSum(tf.tensor1d([5, 7, 11, 13], "int32"), tf.tensor1d([1, 1, 0, 1], "int32"), 2),
      ]);
      expect(floats.shape).toEqual([3, 2]);
      expectClose(await floats.data(), expected, 1e-6);
      // (tfjs's cpu kernel returns int32 sums as float32, the wasm kernel keeps int32: compare values.)
      expect(Array.from(await integers.data())).toEqual([11, 25]);
      tf.dispose([floats, integers]);
    });
  });

  const einsumCases: ReadonlyArray<{ equation: string; shapes: ReadonlyArray<ReadonlyArray<number>> }> = [
    {
      equation: "ij,jk->ik",
      shapes: [
        [3, 4],
        [4, 2],
      ],
    },
    {
      equation: "bij,bjk->bik",
      shapes: [
        [2, 3, 4],
        [2, 4, 2],
      ],
    },
    {
      equation: "bhqd,bhkd->bhqk",
      shapes: [
        [1, 2, 3, 4],
        [1, 2, 5, 4],
      ],
    },
    { equation: "ij->ji", shapes: [[3, 4]] },
    { equation: "ij->i", shapes: [[3, 4]] },
    { equation: "i,j->ij", shapes: [[3], [4]] },
    // The first operand holds no summed index (tfjs's own cpu kernel ignores it).
    { equation: "i,jk->ij", shapes: [[3], [4, 2]] },
    // k occurs only in the second operand: its gradient is broadcast along k.
    {
      equation: "ij,jk->i",
      shapes: [
        [3, 4],
        [4, 2],
      ],
    },
  ];

  it.each(einsumCases)(
    "einsum $equation: forward and gradients match float64",
    async ({ equation, shapes }) => {
      const operands: Array<Dense> = shapes.map((shape, index) => ({
        shape,
        values: seededValues(
          shape.reduce((a, b) => a * b, 1),
          10 + index,
        ),
      }));
      const reference = einsum64(equation, operands);
      const weights = seededValues(reference.values.length, 99);
      // loss = Σ einsum(...) ⊙ weights; its gradient in operand k by finite differences in float64.
      const expectedGradients = operands.map((operand, index) =>
        finiteDifference(operand.values, (values) =>
          dot(
            einsum64(
              equation,
              operands.map((other, at) => (at === index ? { ...other, values } : other)),
            ).values,
            weights,
          ),
        ),
      );
      await withoutLeaks(async () => {
        const [forward, ...gradients] = tf.tidy(() => {
          const inputs = operands.map((operand) =>
            tf.tensor(operand.values as Array<number>, [...operand.shape]),
          );
          const weight = tf.tensor(weights, [...reference.shape]);
          const loss = (...xs: Array<tf.Tensor>) => tf.sum(tf.mul(tf.einsum(equation, ...xs), weight));
          return [tf.einsum(equation, ...inputs), ...tf.grads(loss)(inputs)];
        });
        expect(forward?.shape).toEqual(reference.shape);
        expectClose(await (forward as tf.Tensor).data(), reference.values);
        for (const [index, gradient] of gradients.entries()) {
          expect(gradient.shape).toEqual([...(shapes[index] as Array<number>)]);
          expectClose(await gradient.data(), expectedGradients[index] as Array<number>, 1e-3);
        }
        tf.dispose([forward as tf.Tensor, ...gradients]);
      });
    },
  );

  it.each([
    { pad: "valid" as const, stride: 1, padding: [0, 0] as const, out: [3, 4] as const },
    { pad: "same" as const, stride: 2, padding: [0, 0] as const, out: [2, 3] as const },
    { pad: "same" as const, stride: 1, padding: [0, 0] as const, out: [4, 5] as const },
  ])(
    "conv2d filter gradient ($pad, stride $stride) matches float64",
    async ({ pad, stride, padding, out }) => {
      const x: Dense = { shape: [2, 4, 5, 2], values: seededValues(2 * 4 * 5 * 2, 20) };
      const filter: Dense = { shape: [2, 2, 2, 3], values: seededValues(2 * 2 * 2 * 3, 21) };
      const weights = seededValues(2 * out[0] * out[1] * 3, 22);
      const expected = finiteDifference(filter.values, (values) =>
        dot(conv2d64(x, { ...filter, values }, stride, padding, out).values, weights),
      );
      await withoutLeaks(async () => {
        const gradient = tf.tidy(() => {
          const input = tf.tensor4d(x.values as Array<number>, [2, 4, 5, 2]);
          const weight = tf.tensor4d(weights, [2, out[0], out[1], 3]);
          return tf.grad((kernel: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(input, kernel as tf.Tensor4D, stride, pad), weight)),
          )(tf.tensor4d(filter.values as Array<number>, [2, 2, 2, 3]));
        });
        expectClose(await gradient.data(), expected, 1e-3);
        gradient.dispose();
      });
    },
  );

  it.each([
    { name: "strides 2 on both axes", begin: [0, 1], end: [4, 6], strides: [2, 2], masks: [0, 0, 0, 0, 0] },
    {
      name: "negative stride, end mask",
      begin: [3, 4],
      end: [0, 0],
      strides: [-1, -2],
      masks: [0, 2, 0, 0, 0],
    },
    { name: "shrink the first axis", begin: [2, 0], end: [3, 6], strides: [1, 3], masks: [0, 0, 0, 0, 1] },
  ])("differentiates stridedSlice ($name) like a hand scatter", async ({ begin, end, strides, masks }) => {
    const [beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask] = masks as [
      number,
      number,
      number,
      number,
      number,
    ];
    // The rows/columns each case reads, written out by hand from the parameters above.
    const picks: Record<string, [Array<number>, Array<number>]> = {
      "0,1": [
        [0, 2],
        [1, 3, 5],
      ],
      "3,4": [
        [3, 2, 1],
        [4, 2, 0],
      ],
      "2,0": [[2], [0, 3]],
    };
    const [rows, columns] = picks[begin.join(",")] as [Array<number>, Array<number>];
    const weights = seededValues(rows.length * columns.length, 50);
    const expected = new Array<number>(4 * 6).fill(0);
    rows.forEach((row, i) => {
      columns.forEach((column, j) => {
        expected[row * 6 + column] += weights[i * columns.length + j] as number;
      });
    });
    await withoutLeaks(async () => {
      const gradient = tf.tidy(() =>
        tf.grad((x: tf.Tensor) => {
          const slice = tf.stridedSlice(
            x,
            begin,
            end,
            strides,
            beginMask,
            endMask,
            ellipsisMask,
            newAxisMask,
            shrinkAxisMask,
          );
          return tf.sum(tf.mul(tf.reshape(slice, [-1]), tf.tensor1d(weights)));
        })(tf.tensor2d(seededValues(24, 51), [4, 6])),
      );
      expectClose(await gradient.data(), expected, 1e-6);
      gradient.dispose();
    });
  });

  it("treats comparisons and logical ops as non-differentiable (zero gradient) instead of failing", async () => {
    const values = [-1.5, -0.2, 0.3, 2];
    await withoutLeaks(async () => {
      const gradient = tf.tidy(() =>
        tf.grad((x: tf.Tensor) => {
          const inside = tf.logicalAnd(tf.greater(x, -1), tf.less(x, 1));
          return tf.sum(tf.where(inside, tf.mul(x, 3), tf.mul(x, tf.cast(tf.isNaN(x), "float32"))));
        })(tf.tensor1d(values)),
      );
      // d/dx: 3 inside (-1, 1), and x·isNaN(x) = 0 elsewhere.
      expect(Array.from(await gradient.data())).toEqual([0, 3, 3, 0]);
      gradient.dispose();
    });
  });

  it("differentiates the ops a transformer block uses without missing kernels", async () => {
    await withoutLeaks(async () => {
      const gradient = tf.tidy(() => {
        const x = tf.tensor3d(seededValues(2 * 3 * 4, 30), [2, 3, 4]);
        const w = tf.tensor2d(seededValues(4 * 4, 31), [4, 4]);
        return tf.grad((input: tf.Tensor) => {
          const normed = tf.mul(input, tf.rsqrt(tf.add(tf.mean(tf.square(input), -1, true), 1e-6)));
          const q = tf.matMul(tf.reshape(normed, [6, 4]), w, false, true);
          const scores = tf.matMul(tf.reshape(q, [2, 3, 4]), tf.reshape(q, [2, 3, 4]), false, true);
          const masked = tf.where(
            tf.greater(tf.range(0, 3).reshape([1, 3]), tf.range(0, 3).reshape([3, 1])),
            -1e9,
            scores,
          );
          const attention = tf.matMul(tf.softmax(masked), input);
          const rotated = tf.concat(
            [tf.slice(attention, [0, 0, 2], [2, 3, 2]), tf.neg(tf.slice(attention, [0, 0, 0], [2, 3, 2]))],
            -1,
          );
          const gelu = tf.mul(rotated, tf.add(1, tf.erf(tf.div(rotated, Math.SQRT2))));
          const silu = tf.mul(gelu, tf.sigmoid(gelu));
          const mixed = tf.add(
            tf.mul(silu, tf.cos(input)),
            tf.mul(tf.sin(input), tf.exp(tf.neg(tf.abs(input)))),
          );
          return tf.add(
            tf.sum(tf.logSoftmax(tf.transpose(mixed, [0, 2, 1]))),
            tf.sum(tf.max(tf.pow(tf.add(tf.abs(mixed), 1), 1.5), -1)),
          );
        })(x);
      });
      const values = await gradient.data();
      expect(gradient.shape).toEqual([2, 3, 4]);
      expect(Array.from(values).every(Number.isFinite)).toBe(true);
      gradient.dispose();
    });
  });

  it.each([
    [2, 5, 3],
    [9, 7, 11],
    [16, 4, 40],
  ])(
    "multiplies with transposed operands like a float64 product (M = %i, K = %i, N = %i)",
    async (rows, inner, columns) => {
      const a = seededValues(2 * rows * inner, 21);
      const b = seededValues(2 * inner * columns, 22);
      // Batched a [2, M, K] · b [2, K, N], element (p, i, j) = Σ_k a[p, i, k] · b[p, k, j].
      const expected = Array.from({ length: 2 * rows * columns }, (_, index) => {
        const p = Math.floor(index / (rows * columns));
        const i = Math.floor(index / columns) % rows;
        const j = index % columns;
        let sum = 0;
        for (let k = 0; k < inner; k++)
          sum += a[(p * rows + i) * inner + k]! * b[(p * inner + k) * columns + j]!;
        return sum;
      });
      await withoutLeaks(async () => {
        const products = tf.tidy(() => {
          const left = tf.tensor3d(a, [2, rows, inner]);
          const right = tf.tensor3d(b, [2, inner, columns]);
          const leftT = tf.transpose(left, [0, 2, 1]);
          const rightT = tf.transpose(right, [0, 2, 1]);
          return [
            tf.matMul(left, right),
            tf.matMul(leftT, right, true, false),
            tf.matMul(left, rightT, false, true),
            tf.matMul(leftT, rightT, true, true),
          ];
        });
        for (const product of products) {
          expect(product.shape).toEqual([2, rows, columns]);
          expectClose(await product.data(), expected, 1e-5);
        }
        tf.dispose(products);
      });
    },
  );

  it("differentiates a matmul (its gradient multiplies transposed operands) like a float64 re-derivation", async () => {
    const rows = 12;
    const inner = 6;
    const columns = 10;
    const x = seededValues(rows * inner, 31);
    const w = seededValues(columns * inner, 32);
    const dy = seededValues(rows * columns, 33);
    // y = x · wᵀ; with L = Σ dy ⊙ y: dL/dx = dy · w, dL/dw = dyᵀ · x.
    const expectedX = Array.from({ length: rows * inner }, (_, index) => {
      const i = Math.floor(index / inner);
      const k = index % inner;
      let sum = 0;
      for (let j = 0; j < columns; j++) sum += dy[i * columns + j]! * w[j * inner + k]!;
      return sum;
    });
    const expectedW = Array.from({ length: columns * inner }, (_, index) => {
      const j = Math.floor(index / inner);
      const k = index % inner;
      let sum = 0;
      for (let i = 0; i < rows; i++) sum += dy[i * columns + j]! * x[i * inner + k]!;
      return sum;
    });
    await withoutLeaks(async () => {
      const [dx, dw] = tf.tidy(() => {
        const upstream = tf.tensor2d(dy, [rows, columns]);
        return tf.grads((input: tf.Tensor, weight: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(input as tf.Tensor2D, weight as tf.Tensor2D, false, true), upstream)),
        )([tf.tensor2d(x, [rows, inner]), tf.tensor2d(w, [columns, inner])]);
      });
      expectClose(await dx!.data(), expectedX, 1e-5);
      expectClose(await dw!.data(), expectedW, 1e-5);
      tf.dispose([dx!, dw!]);
    });
  });

  it.each([
    // rows × inner × columns, transposeA, transposeB, batch of A, batch of B.
    { m: 1, k: 9, n: 40, ta: false, tb: true, batchA: [], batchB: [] }, // decoding: (B · Aᵀ)ᵀ on wasm
    { m: 5, k: 9, n: 40, ta: false, tb: true, batchA: [], batchB: [] },
    { m: 30, k: 4, n: 6, ta: false, tb: true, batchA: [], batchB: [] }, // B transposed first
    { m: 3, k: 4, n: 6, ta: false, tb: true, batchA: [2, 3], batchB: [2, 3] },
    { m: 20, k: 4, n: 20, ta: false, tb: true, batchA: [2, 3], batchB: [2, 3] },
    { m: 2, k: 7, n: 30, ta: false, tb: true, batchA: [3], batchB: [1] }, // broadcast batch of B
    { m: 2, k: 7, n: 30, ta: false, tb: true, batchA: [1], batchB: [3] }, // broadcast batch of A
    { m: 12, k: 7, n: 9, ta: true, tb: false, batchA: [], batchB: [] }, // A transposed first
    { m: 3, k: 7, n: 4, ta: true, tb: true, batchA: [2], batchB: [2] },
    { m: 6, k: 11, n: 5, ta: false, tb: false, batchA: [], batchB: [] },
  ])(
    "multiplies [$batchA]×$m×$k by [$batchB]×$k×$n (transposeA $ta, transposeB $tb) like float64",
    async ({ m, k, n, ta, tb, batchA, batchB }) => {
      const batches = Math.max(
        batchA.reduce((p, e) => p * e, 1),
        batchB.reduce((p, e) => p * e, 1),
      );
      const countA = batchA.reduce((p, e) => p * e, 1);
      const countB = batchB.reduce((p, e) => p * e, 1);
      const a = seededValues(countA * m * k, 41 + m);
      const b = seededValues(countB * k * n, 42 + n);
      // Element (i, j) of batch t: Σ_l A_t[i, l] · B_t[l, j], reading the stored (maybe transposed) layouts.
      const readA = (t: number, i: number, l: number) =>
        a[(countA === 1 ? 0 : t) * m * k + (ta ? l * m + i : i * k + l)]!;
      const readB = (t: number, l: number, j: number) =>
        b[(countB === 1 ? 0 : t) * k * n + (tb ? j * k + l : l * n + j)]!;
      const expected: Array<number> = [];
      for (let t = 0; t < batches; t++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let l = 0; l < k; l++) sum += readA(t, i, l) * readB(t, l, j);
            expected.push(sum);
          }
      await withoutLeaks(async () => {
        const product = tf.tidy(() =>
          tf.matMul(
            tf.tensor(a, [...batchA, ...(ta ? [k, m] : [m, k])]),
            tf.tensor(b, [...batchB, ...(tb ? [n, k] : [k, n])]),
            ta,
            tb,
          ),
        );
        const batchShape =
          batchA.length === 0 ? [] : batchA.map((extent, axis) => Math.max(extent, batchB[axis]!));
        expect(product.shape).toEqual([...batchShape, m, n]);
        expectClose(await product.data(), expected, 1e-5);
        product.dispose();
      });
    },
  );

  it.each([
    { shape: [7, 5], begin: [2, 0], size: [3, 5] },
    { shape: [7, 5], begin: [1, 2], size: [4, 2] },
    { shape: [3, 4, 5], begin: [1, 1, 2], size: [2, 3, 3] },
    { shape: [2, 3, 4, 5], begin: [0, 1, 0, 1], size: [2, 2, 4, 3] },
    { shape: [2, 3, 2, 2, 3], begin: [1, 0, 1, 0, 1], size: [1, 3, 1, 2, 2] },
    { shape: [6], begin: [2], size: [0] },
    // Whole trailing axes: copied as one run per block of the partial axis before them.
    { shape: [3, 4, 5], begin: [1, 2, 0], size: [2, 2, 5] },
    { shape: [4, 3, 5], begin: [1, 0, 0], size: [2, 3, 5] },
    { shape: [2, 3, 4], begin: [0, 0, 0], size: [2, 3, 4] },
    { shape: [3, 2, 4, 5], begin: [1, 1, 1, 0], size: [2, 1, 3, 5] },
  ])("slices $shape at $begin size $size like an index walk", async ({ shape, begin, size }) => {
    const total = shape.reduce((product, extent) => product * extent, 1);
    const values = Array.from({ length: total }, (_, index) => index * 3 - 7);
    // Expected: every index of the block, read through the source's row-major strides.
    const strides = shape.map((_, axis) =>
      shape.slice(axis + 1).reduce((product, extent) => product * extent, 1),
    );
    const expected: Array<number> = [];
    const walk = (axis: number, offset: number) => {
      if (axis === shape.length) {
        expected.push(values[offset]!);
        return;
      }
      for (let i = 0; i < size[axis]!; i++) walk(axis + 1, offset + (begin[axis]! + i) * strides[axis]!);
    };
    walk(0, 0);
    await withoutLeaks(async () => {
      const [floats, integers] = tf.tidy(() => [
        tf.slice(tf.tensor(values, shape, "float32"), begin, size),
        tf.slice(tf.tensor(values, shape, "int32"), begin, size),
      ]);
      expect(floats!.shape).toEqual(size);
      expect(Array.from(await floats!.data())).toEqual(expected);
      expect(Array.from(await integers!.data())).toEqual(expected);
      tf.dispose([floats!, integers!]);
    });
  });

  it("saves tensors for the backward without copying their buffers (Identity shares data)", async () => {
    const values = seededValues(6 * 4, 11);
    const target = seededValues(3 * 4, 12);
    await withoutLeaks(async () => {
      const weight = tf.tensor2d(values, [6, 4]);
      const buffersBefore = tf.memory().numDataBuffers;
      const copy = tf.clone(weight);
      // A clone is a new tensor over the same buffer: no buffer is added, and it outlives its source.
      expect(tf.memory().numDataBuffers).toBe(buffersBefore);
      weight.dispose();
      expectClose(await copy.data(), values.map(Math.fround), 0);
      // The gradient of a matmul saves its inputs through the same kernel; its value is unchanged.
      const inputs = tf.tensor2d(target, [3, 4]);
      const gradient = tf.grad((w: tf.Tensor) => tf.sum(tf.matMul(inputs, w as tf.Tensor2D, false, true)))(
        copy,
      );
      // d/dW Σ_{n,v} x_n · w_v = Σ_n x_n for every row v.
      const columnSums = [0, 1, 2, 3].map((h) => target[h]! + target[4 + h]! + target[8 + h]!);
      expectClose(await gradient.data(), Array.from({ length: 6 }, () => columnSums).flat(), 1e-6);
      tf.dispose([copy, inputs, gradient]);
    });
  });
});

describe("backends agree", () => {
  it("gives the same transformer-block gradient on every test backend", async () => {
    const results: Array<Float32Array> = [];
    for (const backend of backends) {
      await initBackend(backend);
      const gradient = tf.tidy(() =>
        tf.grad((input: tf.Tensor) =>
          tf.sum(
            tf.logSoftmax(tf.matMul(tf.gather(input, tf.tensor1d([2, 0, 2], "int32")), input, false, true)),
          ),
        )(tf.tensor2d(seededValues(4 * 5, 40), [4, 5])),
      );
      results.push((await gradient.data()) as Float32Array);
      gradient.dispose();
    }
    for (const result of results.slice(1)) expectClose(result, Array.from(results[0] as Float32Array), 1e-4);
  });
});
