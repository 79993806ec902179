/**
 * `apo-bench perf tensor`: the memory-lean log-prob ops of `@apo-rl/tensor` against the naive tfjs
 * paths, forward + backward, with Qwen's vocabulary.
 *
 * Memory method. Every measured run executes inside `tf.profile`, and the benchmark records, after
 * every kernel, the bytes of the live tfjs data buffers (each buffer once, however many tensors
 * share it: a reshape or a saved clone is a view, not a copy) together with the engine's tensor-id
 * counter. The extra peak of a run is
 *   max over those samples of (live buffer bytes − buffer bytes alive before the run − bytes of the
 *   returned gradients that already exist at that sample),
 * where "bytes alive before the run" are the inputs (hidden states, the lm_head weight, targets) and
 * a returned gradient "exists" from the sample after its tensor was created. So what remains is
 * exactly the working memory of the op: logits, softmax, chunk buffers, saved activations. The fused
 * op assembles its `[V, H]` weight gradient on the host (cpu and wasm) and hands it to tfjs at the
 * end; that buffer *is* the returned gradient, so it is not counted, while every tfjs-side chunk is.
 * The same peak over tfjs's own `numBytes` (which counts every tensor, views included) is reported
 * beside it as `extraPeakTensorBytes`.
 */

import { type BackendName, initBackend, linearTokenLogprobs, tokenLogprobs } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { median } from "../statistics.js";

/** Qwen2.5's vocabulary size (`lm_head.weight` has this many rows). */
export const QWEN_VOCABULARY = 151_936;

/**
 * Options of {@link runTensorPerf}.
 *
 * @since 0.1.0
 * @category perf
 */
export interface TensorPerfOptions {
  /** Backends to measure (each initialised with `initBackend`). Default `["cpu", "wasm"]`. */
  readonly backends?: ReadonlyArray<BackendName>;
  /** Small shapes (N = 16, H = 64) for a CI smoke run, still with V = 151,936. Default `false`. */
  readonly quick?: boolean;
  /** Timed repetitions per case; the median is reported. Default 1 (quick: 2). */
  readonly repetitions?: number;
  /**
   * On wasm, also try N = 512, H = 896 (Qwen2.5-0.5B's head): the fused op, then the naive path,
   * which needs ~1.5 GiB of working memory next to the weight and its gradient in the 4 GB wasm
   * heap (it overflowed it before apo-rl's wasm kernels; a failure is recorded, not thrown).
   * Default `true` unless `quick`.
   */
  readonly oversizedWasm?: boolean;
  /** Override the shape per backend (defaults: cpu N = 512, H = 896; wasm N = 128, H = 256). */
  readonly shapes?: Readonly<Partial<Record<BackendName, TensorPerfShape>>>;
  /** Which comparisons to run. Default both. */
  readonly ops?: ReadonlyArray<"linearTokenLogprobs" | "tokenLogprobs">;
  /** Progress lines (one per measured case). */
  readonly onProgress?: (line: string) => void;
}

/**
 * One measured case.
 *
 * @since 0.1.0
 * @category perf
 */
export interface TensorPerfMeasurement {
  readonly op: "linearTokenLogprobs" | "tokenLogprobs";
  readonly path: "fused" | "naive";
  /** How the path computes, in words. */
  readonly description: string;
  readonly backend: string;
  readonly tokens: number;
  /** `H`; 0 for `tokenLogprobs` (its input is logits). */
  readonly hiddenSize: number;
  readonly vocabulary: number;
  readonly status: "ok" | "failed";
  /** The error message when `status` is `failed` (e.g. the wasm heap is exhausted). */
  readonly error?: string;
  /** Forward + backward wall time per repetition (ms). */
  readonly timesMs: ReadonlyArray<number>;
  readonly medianMs?: number;
  /**
   * Forward + backward CPU time of this process per repetition (ms): the cpu and wasm backends
   * compute on one thread, so this is the run's cost even on a machine shared with other jobs.
   */
  readonly cpuTimesMs: ReadonlyArray<number>;
  readonly medianCpuMs?: number;
  /** Bytes alive before the run: the inputs and the weight. */
  readonly inputBytes: number;
  /** Bytes of the returned gradients. */
  readonly gradientBytes: number;
  /** Extra peak bytes of live data buffers (see the module's memory method). */
  readonly extraPeakBytes?: number;
  /** The same extra peak over tfjs's `numBytes`, which counts views (reshapes, saved clones) again. */
  readonly extraPeakTensorBytes?: number;
}

/**
 * Fused versus naive at one shape.
 *
 * @since 0.1.0
 * @category perf
 */
export interface TensorPerfComparison {
  readonly op: "linearTokenLogprobs" | "tokenLogprobs";
  readonly backend: string;
  readonly tokens: number;
  readonly hiddenSize: number;
  /** fused median CPU time / naive median CPU time (see `cpuTimesMs`). */
  readonly timeRatio: number;
  /** fused median wall time / naive median wall time (noisy on a shared machine). */
  readonly wallTimeRatio: number;
  /** fused extra peak / naive extra peak (live data buffers). */
  readonly memoryRatio: number;
  /** The same ratio over tfjs's `numBytes` (views counted again). */
  readonly tensorBytesMemoryRatio: number;
  /** Targets of issue 3 (linearTokenLogprobs only): time ≤ 1.35×, extra peak ≤ 15 %. */
  readonly meetsTimeTarget?: boolean;
  readonly meetsMemoryTarget?: boolean;
}

/**
 * @since 0.1.0
 * @category perf
 */
export interface TensorPerfResults {
  readonly vocabulary: number;
  readonly quick: boolean;
  readonly repetitions: number;
  readonly measurements: ReadonlyArray<TensorPerfMeasurement>;
  readonly comparisons: ReadonlyArray<TensorPerfComparison>;
  readonly memoryMethod: string;
}

/** Issue 3's targets for the fused linear log-prob. */
export const TIME_TARGET = 1.35;
export const MEMORY_TARGET = 0.15;

const MEMORY_METHOD =
  "bytes of live tfjs data buffers (each once, views not counted again) sampled after every kernel (tf.profile); extra peak = max(live − bytes before the run − returned gradients already created)";

/**
 * Tokens `N` and hidden size `H` of a case.
 *
 * @since 0.1.0
 * @category perf
 */
export interface TensorPerfShape {
  readonly tokens: number;
  readonly hiddenSize: number;
}

type Shape = TensorPerfShape;

interface Sample {
  readonly bytes: number;
  readonly tensorBytes: number;
  readonly nextTensorId: number;
}

/** The engine's next tensor id (a private static of tfjs's Engine; read-only use). */
const nextTensorId = (): number => Reflect.get(tf.engine().constructor, "nextTensorId") as number;

interface EngineInternals {
  trackTensor(tensor: tf.Tensor, backend: unknown): void;
  disposeTensor(tensor: tf.Tensor): void;
  readonly state: { readonly tensorInfo: WeakMap<object, unknown> };
}

/**
 * Counts the bytes of data buffers created and freed while installed, each buffer once however many
 * tensors (views) share it: wraps the engine's `trackTensor` / `disposeTensor` on the instance and
 * asks its per-buffer record (`state.tensorInfo`) whether a buffer is new or gone.
 */
const installBufferCounter = (): { readonly bytes: () => number; readonly uninstall: () => void } => {
  const engine = tf.engine() as unknown as EngineInternals;
  const known = (tensor: tf.Tensor) => engine.state.tensorInfo.has(tensor.dataId as object);
  const track = engine.trackTensor.bind(engine);
  const dispose = engine.disposeTensor.bind(engine);
  let live = 0;
  engine.trackTensor = (tensor, backend) => {
    const fresh = !known(tensor);
    track(tensor, backend);
    if (fresh) live += tensor.size * 4;
  };
  engine.disposeTensor = (tensor) => {
    const existed = known(tensor);
    dispose(tensor);
    if (existed && !known(tensor)) live -= tensor.size * 4;
  };
  return {
    bytes: () => live,
    uninstall: () => {
      Reflect.deleteProperty(engine, "trackTensor");
      Reflect.deleteProperty(engine, "disposeTensor");
    },
  };
};

let bufferCounter: ReturnType<typeof installBufferCounter> | undefined;
const bufferBytes = (): number => bufferCounter?.bytes() ?? 0;

const sample = (): Sample => ({
  bytes: bufferBytes(),
  tensorBytes: tf.engine().state.numBytes,
  nextTensorId: nextTensorId(),
});

/**
 * Run `body` under `tf.profile`, sampling live bytes after every kernel, and return its gradients
 * with the extra peak (see the module comment).
 */
/** Samples after every kernel of `body` (see the module's memory method), with its wall and CPU time. */
const sampleRun = async (
  body: () => ReadonlyArray<tf.Tensor>,
): Promise<{
  gradients: ReadonlyArray<tf.Tensor>;
  before: Sample;
  samples: ReadonlyArray<Sample>;
  elapsedMs: number;
  cpuMs: number;
}> => {
  const engine = tf.engine();
  const before = sample();
  const samples: Array<Sample> = [];
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const info = await tf.profile(() => {
    const kernels = engine.state.activeProfile.kernels;
    // Record one sample per kernel without keeping the (large) per-kernel records.
    kernels.push = (..._items: Array<unknown>): number => {
      samples.push(sample());
      return 0;
    };
    return [...body()];
  });
  const gradients = info.result as Array<tf.Tensor>;
  // Make sure device backends have finished before the clock stops (cpu and wasm are synchronous).
  for (const gradient of gradients) {
    const corner = tf.slice(gradient, new Array(gradient.rank).fill(0), new Array(gradient.rank).fill(1));
    await corner.data();
    corner.dispose();
  }
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  samples.push(sample());
  return { gradients, before, samples, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 };
};

/**
 * Run `body` under `tf.profile`, sampling live bytes after every kernel, and return its gradients
 * with the extra peak (see the module comment).
 */
const profiled = async (
  body: () => ReadonlyArray<tf.Tensor>,
): Promise<{
  gradients: ReadonlyArray<tf.Tensor>;
  extraPeakBytes: number;
  extraPeakTensorBytes: number;
  elapsedMs: number;
  cpuMs: number;
}> => {
  bufferCounter = installBufferCounter();
  const run = await sampleRun(body).finally(() => {
    bufferCounter?.uninstall();
    bufferCounter = undefined;
  });
  const bytesOf = (tensor: tf.Tensor) => tensor.size * 4;
  let extraPeakBytes = 0;
  let extraPeakTensorBytes = 0;
  for (const { bytes, tensorBytes, nextTensorId: next } of run.samples) {
    const created = run.gradients
      .filter((gradient) => gradient.id < next)
      .reduce((sum, g) => sum + bytesOf(g), 0);
    extraPeakBytes = Math.max(extraPeakBytes, bytes - run.before.bytes - created);
    extraPeakTensorBytes = Math.max(extraPeakTensorBytes, tensorBytes - run.before.tensorBytes - created);
  }
  return {
    gradients: run.gradients,
    extraPeakBytes,
    extraPeakTensorBytes,
    elapsedMs: run.elapsedMs,
    cpuMs: run.cpuMs,
  };
};

/** `log_softmax(x)[n, t_n]` the plain way: a flat gather from the full `[N, V]` log-softmax. */
const naivePick = (logprobs: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D => {
  const [rows, vocabulary] = logprobs.shape;
  const flat = tf.add(tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(vocabulary, "int32")), targets);
  return tf.gather(tf.reshape(logprobs, [rows * vocabulary]), flat) as tf.Tensor1D;
};

interface CaseDefinition {
  readonly op: TensorPerfMeasurement["op"];
  readonly path: TensorPerfMeasurement["path"];
  readonly description: string;
  readonly shape: Shape;
  /** Creates the inputs; the first `differentiable` of them get gradients. */
  readonly inputs: () => { readonly tensors: ReadonlyArray<tf.Tensor>; readonly differentiable: number };
  readonly loss: (...tensors: Array<tf.Tensor>) => tf.Scalar;
}

const linearInputs = (shape: Shape, vocabulary: number) => () => ({
  tensors: [
    tf.randomNormal([shape.tokens, shape.hiddenSize], 0, 1, "float32", 1),
    tf.randomNormal([vocabulary, shape.hiddenSize], 0, 0.02, "float32", 2),
    tf.randomUniform([shape.tokens], 0, vocabulary, "int32", 3),
  ],
  differentiable: 2,
});

const logitsInputs = (shape: Shape, vocabulary: number) => () => ({
  tensors: [
    tf.randomNormal([shape.tokens, vocabulary], 0, 2, "float32", 4),
    tf.randomUniform([shape.tokens], 0, vocabulary, "int32", 5),
  ],
  differentiable: 1,
});

const linearCases = (shape: Shape, vocabulary: number): ReadonlyArray<CaseDefinition> => [
  {
    op: "linearTokenLogprobs",
    path: "fused",
    description: "linearTokenLogprobs (token chunks forward, vocabulary chunks backward, logits recomputed)",
    shape,
    inputs: linearInputs(shape, vocabulary),
    loss: (hidden, weight, targets) =>
      tf.sum(linearTokenLogprobs(hidden as tf.Tensor2D, weight as tf.Tensor2D, targets as tf.Tensor1D)),
  },
  {
    op: "linearTokenLogprobs",
    path: "naive",
    description: "matMul(hidden, weightᵀ) → logSoftmax → gather the target",
    shape,
    inputs: linearInputs(shape, vocabulary),
    loss: (hidden, weight, targets) =>
      tf.sum(
        naivePick(
          tf.logSoftmax(tf.matMul(hidden as tf.Tensor2D, weight as tf.Tensor2D, false, true)) as tf.Tensor2D,
          targets as tf.Tensor1D,
        ),
      ),
  },
];

const tokenCases = (shape: Shape, vocabulary: number): ReadonlyArray<CaseDefinition> => [
  {
    op: "tokenLogprobs",
    path: "fused",
    description: "tokenLogprobs (row-chunked logsumexp, chunked gradient)",
    shape,
    inputs: logitsInputs(shape, vocabulary),
    loss: (logits, targets) => tf.sum(tokenLogprobs(logits as tf.Tensor2D, targets as tf.Tensor1D)),
  },
  {
    op: "tokenLogprobs",
    path: "naive",
    description: "logSoftmax → gather the target",
    shape,
    inputs: logitsInputs(shape, vocabulary),
    loss: (logits, targets) =>
      tf.sum(naivePick(tf.logSoftmax(logits as tf.Tensor2D), targets as tf.Tensor1D)),
  },
];

const measure = async (
  definition: CaseDefinition,
  backend: string,
  vocabulary: number,
  repetitions: number,
): Promise<TensorPerfMeasurement> => {
  const base = {
    op: definition.op,
    path: definition.path,
    description: definition.description,
    backend,
    tokens: definition.shape.tokens,
    hiddenSize: definition.op === "tokenLogprobs" ? 0 : definition.shape.hiddenSize,
    vocabulary,
  };
  let inputs: ReadonlyArray<tf.Tensor> = [];
  const timesMs: Array<number> = [];
  const cpuTimesMs: Array<number> = [];
  let extraPeakBytes = 0;
  let extraPeakTensorBytes = 0;
  let gradientBytes = 0;
  let inputBytes = 0;
  try {
    const created = definition.inputs();
    inputs = created.tensors;
    inputBytes = inputs.reduce((sum, tensor) => sum + tensor.size * 4, 0);
    const differentiable = inputs.slice(0, created.differentiable);
    const constants = inputs.slice(created.differentiable);
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const run = await profiled(() =>
        tf.grads((...variables: Array<tf.Tensor>) => definition.loss(...variables, ...constants))([
          ...differentiable,
        ]),
      );
      timesMs.push(run.elapsedMs);
      cpuTimesMs.push(run.cpuMs);
      extraPeakBytes = Math.max(extraPeakBytes, run.extraPeakBytes);
      extraPeakTensorBytes = Math.max(extraPeakTensorBytes, run.extraPeakTensorBytes);
      gradientBytes = run.gradients.reduce((sum, tensor) => sum + tensor.size * 4, 0);
      tf.dispose([...run.gradients]);
    }
    return {
      ...base,
      status: "ok",
      timesMs,
      medianMs: median(timesMs) ?? 0,
      cpuTimesMs,
      medianCpuMs: median(cpuTimesMs) ?? 0,
      inputBytes,
      gradientBytes,
      extraPeakBytes,
      extraPeakTensorBytes,
    };
  } catch (error) {
    return {
      ...base,
      status: "failed",
      error: error instanceof Error ? error.message.split("\n")[0]! : String(error),
      timesMs,
      cpuTimesMs,
      inputBytes,
      gradientBytes,
    };
  } finally {
    tf.dispose([...inputs]);
  }
};

const compare = (measurements: ReadonlyArray<TensorPerfMeasurement>): ReadonlyArray<TensorPerfComparison> => {
  const comparisons: Array<TensorPerfComparison> = [];
  for (const fused of measurements.filter((m) => m.path === "fused" && m.status === "ok")) {
    const naive = measurements.find(
      (m) =>
        m.path === "naive" &&
        m.status === "ok" &&
        m.op === fused.op &&
        m.backend === fused.backend &&
        m.tokens === fused.tokens &&
        m.hiddenSize === fused.hiddenSize,
    );
    if (naive === undefined) continue;
    const timeRatio = fused.medianCpuMs! / naive.medianCpuMs!;
    const wallTimeRatio = fused.medianMs! / naive.medianMs!;
    const memoryRatio = fused.extraPeakBytes! / naive.extraPeakBytes!;
    const tensorBytesMemoryRatio = fused.extraPeakTensorBytes! / naive.extraPeakTensorBytes!;
    comparisons.push({
      op: fused.op,
      backend: fused.backend,
      tokens: fused.tokens,
      hiddenSize: fused.hiddenSize,
      timeRatio,
      wallTimeRatio,
      memoryRatio,
      tensorBytesMemoryRatio,
      ...(fused.op === "linearTokenLogprobs"
        ? { meetsTimeTarget: timeRatio <= TIME_TARGET, meetsMemoryTarget: memoryRatio <= MEMORY_TARGET }
        : {}),
    });
  }
  return comparisons;
};

const mebibytes = (bytes: number | undefined): string =>
  bytes === undefined ? "–" : (bytes / 2 ** 20).toFixed(1);
const seconds = (ms: number | undefined): string => (ms === undefined ? "–" : (ms / 1000).toFixed(2));

/**
 * A markdown report: one row per measurement, then the fused/naive ratios.
 *
 * @since 0.1.0
 * @category perf
 */
export const tensorPerfTable = (results: TensorPerfResults): string => {
  const lines = [
    `V = ${results.vocabulary.toLocaleString("en-US")}, forward + backward, median of ${results.repetitions}`,
    "",
    "| op | path | backend | N | H | CPU time (s) | wall time (s) | extra peak (MiB) | extra peak, tfjs numBytes (MiB) | gradients (MiB) | status |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...results.measurements.map(
      (m) =>
        `| ${m.op} | ${m.path} | ${m.backend} | ${m.tokens} | ${m.hiddenSize || "–"} | ${seconds(m.medianCpuMs)} | ${seconds(m.medianMs)} | ${mebibytes(m.extraPeakBytes)} | ${mebibytes(m.extraPeakTensorBytes)} | ${mebibytes(m.gradientBytes)} | ${m.status === "ok" ? "ok" : `failed: ${m.error}`} |`,
    ),
    "",
    "| op | backend | N | H | CPU time fused/naive | wall time fused/naive | extra peak fused/naive | same, tfjs numBytes | targets (≤ 1.35×, ≤ 15 %) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...results.comparisons.map(
      (c) =>
        `| ${c.op} | ${c.backend} | ${c.tokens} | ${c.hiddenSize || "–"} | ${c.timeRatio.toFixed(2)}× | ${c.wallTimeRatio.toFixed(2)}× | ${(100 * c.memoryRatio).toFixed(1)} % | ${(100 * c.tensorBytesMemoryRatio).toFixed(1)} % | ${
          c.meetsTimeTarget === undefined
            ? "–"
            : `time ${c.meetsTimeTarget ? "met" : "missed"}, memory ${c.meetsMemoryTarget ? "met" : "missed"}`
        } |`,
    ),
    "",
    `Memory: ${results.memoryMethod}.`,
  ];
  return lines.join("\n");
};

/**
 * Run the tensor benchmark. Full shapes: N = 512, H = 896 on cpu and N = 128, H = 256 on wasm
 * (plus, unless disabled, the N = 512, H = 896 attempt on wasm), `tokenLogprobs` at the same N.
 * Returns JSON-serialisable results and a markdown table. Leaves the last backend active.
 *
 * @example
 * ```ts
 * const { results, table } = await runTensorPerf({ quick: true });
 * ```
 * @since 0.1.0
 * @category perf
 */
export const runTensorPerf = async (
  options: TensorPerfOptions = {},
): Promise<{ readonly results: TensorPerfResults; readonly table: string }> => {
  const quick = options.quick === true;
  const repetitions = options.repetitions ?? (quick ? 2 : 1);
  const vocabulary = QWEN_VOCABULARY;
  // A backend named by `--backend` / APO_BACKEND replaces the default pair.
  const requested = process.env.APO_BACKEND?.trim();
  const backends =
    options.backends ??
    (requested !== undefined && requested !== "" && requested !== "auto"
      ? (requested.split(",").map((name) => name.trim()) as ReadonlyArray<BackendName>)
      : ["cpu", "wasm"]);
  const oversized = options.oversizedWasm ?? !quick;
  const measurements: Array<TensorPerfMeasurement> = [];
  for (const backend of backends) {
    await initBackend(backend);
    const shape: Shape =
      options.shapes?.[backend] ??
      (quick
        ? { tokens: 16, hiddenSize: 64 }
        : backend === "cpu"
          ? { tokens: 512, hiddenSize: 896 }
          : { tokens: 128, hiddenSize: 256 });
    const ops = options.ops ?? ["linearTokenLogprobs", "tokenLogprobs"];
    const cases = [
      ...(ops.includes("linearTokenLogprobs") ? linearCases(shape, vocabulary) : []),
      ...(ops.includes("tokenLogprobs") ? tokenCases(shape, vocabulary) : []),
    ];
    // The naive path at Qwen2.5-0.5B's head shape needs more than wasm's 4 GB heap: run it last.
    if (backend === "wasm" && oversized)
      cases.push(...linearCases({ tokens: 512, hiddenSize: 896 }, vocabulary));
    for (const definition of cases) {
      const measurement = await measure(definition, backend, vocabulary, repetitions);
      measurements.push(measurement);
      options.onProgress?.(
        `${measurement.op} ${measurement.path} on ${backend} N=${measurement.tokens} H=${measurement.hiddenSize}: ${
          measurement.status === "ok"
            ? `${seconds(measurement.medianCpuMs)} s CPU, ${seconds(measurement.medianMs)} s wall, extra peak ${mebibytes(measurement.extraPeakBytes)} MiB`
            : `failed (${measurement.error})`
        }`,
      );
    }
  }
  const results: TensorPerfResults = {
    vocabulary,
    quick,
    repetitions,
    measurements,
    comparisons: compare(measurements),
    memoryMethod: MEMORY_METHOD,
  };
  return { results, table: tensorPerfTable(results) };
};
