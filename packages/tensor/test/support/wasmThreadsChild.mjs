// Child process of wasm-threads.test.ts: start the wasm backend with APO_WASM_THREADS from the
// environment, run a few products and reductions, and print what it ran as one JSON line. It must
// then exit by itself: the thread pool may not keep the process alive.
import * as tf from "@tensorflow/tfjs-core";
import { importTypeScript } from "../../../../scripts/support/runTypeScript.mjs";

const { initBackend, wasmThreads } = await importTypeScript("../../src/index.ts", import.meta.url);
const { simdTransposeRuns } = await importTypeScript(
  "../../src/internal/backend-kernels/transposeWasm.ts",
  import.meta.url,
);
const report = await initBackend("wasm");
const seeded = (shape, seed) => tf.randomUniform(shape, -1, 1, "float32", seed);
const values = tf.tidy(() => {
  const a = seeded([192, 320], 1);
  const b = seeded([320, 256], 2);
  const batchedA = seeded([3, 64, 96], 3);
  const batchedB = seeded([3, 80, 96], 4);
  return {
    product: tf.matMul(a, b).arraySync(),
    batched: tf.matMul(batchedA, batchedB, false, true).arraySync(),
    softmax: tf.softmax(tf.matMul(a, b)).sum(0).arraySync(),
    // 37 × 130: 4 × 4 blocks in the SIMD transpose module on the (shared) heap, plus edges.
    transposed: tf.transpose(seeded([37, 130], 5)).arraySync(),
    transposedSource: seeded([37, 130], 5).arraySync(),
  };
});
process.stdout.write(
  `${JSON.stringify({
    reason: report.candidates.find((candidate) => candidate.name === "wasm").reason,
    threads: wasmThreads(),
    simdTranspose: simdTransposeRuns(tf.backend()),
    tensors: tf.memory().numTensors,
    values,
  })}\n`,
);
