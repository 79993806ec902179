import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { configureWasmThreads, InvalidWasmThreadsError, initBackend, wasmThreads } from "../src/index.js";

const child = fileURLToPath(new URL("./support/wasmThreadsChild.mjs", import.meta.url));

interface ChildResult {
  readonly reason: string;
  readonly threads: {
    readonly threads: number;
    readonly plan: { readonly threads: number; readonly source: string };
  };
  readonly tensors: number;
  readonly simdTranspose: boolean;
  readonly values: Record<string, unknown>;
}

const run = (threads: string): { readonly status: number | null; readonly result: ChildResult } => {
  const outcome = spawnSync(process.execPath, [child], {
    encoding: "utf8",
    timeout: 90_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, APO_WASM_THREADS: threads },
  });
  expect(outcome.error, outcome.stderr).toBeUndefined();
  return {
    status: outcome.status,
    result: JSON.parse(outcome.stdout.trim().split("\n").at(-1)!) as ChildResult,
  };
};

const flatten = (value: unknown): number[] =>
  Array.isArray(value) ? value.flatMap(flatten) : [value as number];

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("wasm threads under Node", () => {
  it("runs the threaded build with the requested pool, gives the single thread's results and lets the process exit", () => {
    const single = run("1");
    const threaded = run("2");
    // Both children printed their line and then exited by themselves (spawnSync's timeout would
    // have killed a process that the pool's workers kept alive: status null).
    expect(single.status).toBe(0);
    expect(threaded.status).toBe(0);
    expect(single.result.threads).toEqual({ threads: 1, plan: { threads: 1, source: "APO_WASM_THREADS" } });
    expect(threaded.result.threads).toEqual({ threads: 2, plan: { threads: 2, source: "APO_WASM_THREADS" } });
    expect(single.result.reason).toContain("one thread");
    expect(threaded.result.reason).toContain("2 threads");
    expect(threaded.result.tensors).toBe(0);
    // The SIMD transpose module runs on both heaps (the threaded build's memory is shared) and
    // moves the same bits.
    expect(single.result.simdTranspose).toBe(true);
    expect(threaded.result.simdTranspose).toBe(true);
    const source = threaded.result.values.transposedSource as number[][];
    const columns = source[0]!.map((_, column) => source.map((row) => row[column]!));
    expect(threaded.result.values.transposed).toEqual(columns);
    expect(single.result.values.transposed).toEqual(columns);
    for (const name of ["product", "batched", "softmax"]) {
      const expected = flatten(single.result.values[name]);
      const actual = flatten(threaded.result.values[name]);
      expect(actual.length).toBe(expected.length);
      const worst = Math.max(
        ...actual.map(
          (value, index) => Math.abs(value - expected[index]!) / (1 + Math.abs(expected[index]!)),
        ),
      );
      expect(worst, name).toBeLessThan(1e-5);
    }
  }, 200_000);

  it("refuses a thread count that is not auto or 1–8, naming where it came from", async () => {
    vi.stubEnv("APO_WASM_THREADS", "two");
    await expect(initBackend("wasm")).rejects.toBeInstanceOf(InvalidWasmThreadsError);
    await expect(initBackend(["wasm", "cpu"])).rejects.toMatchObject({
      _tag: "InvalidWasmThreadsError",
      value: "two",
      source: "APO_WASM_THREADS",
    });
    vi.stubEnv("APO_WASM_THREADS", "9");
    await expect(initBackend("wasm")).rejects.toThrow(/APO_WASM_THREADS.*1 to 8/);
    // cpu alone never reads it.
    expect((await initBackend("cpu")).chosen).toBe("cpu");
    expect(() => configureWasmThreads(0)).toThrow(InvalidWasmThreadsError);
    expect(() => configureWasmThreads(2.5)).toThrow(/whole number from 1 to 8/);
  });

  it("starts one thread by default, and reports it; a later different count is refused", async () => {
    vi.stubEnv("APO_WASM_THREADS", "");
    const report = await initBackend("wasm");
    expect(report.candidates.find((candidate) => candidate.name === "wasm")?.reason).toContain("one thread");
    expect(wasmThreads()).toEqual({ threads: 1, plan: { threads: 1, source: "default" } });
    expect(() => configureWasmThreads(2)).toThrow(/already runs with 1 thread/);
  });
});
