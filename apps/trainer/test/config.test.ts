import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidInputError } from "@apo-rl/core";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/errors.js";
import { applyOverrides, loadConfig, parseOverride, resolveConfig } from "../src/loadConfig.js";

const minimal = {
  model: { checkpoint: "demo" },
  data: { format: "synthetic" },
  train: { steps: 10 },
};

const errorOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
};

describe("config", () => {
  it("applies the documented defaults", () => {
    const config = resolveConfig(minimal);
    expect(config.objective).toEqual({ name: "apo", options: {} });
    expect(config.rollout).toEqual({
      groupSize: 8,
      temperature: 1,
      topP: 1,
      topK: 0,
      maxNewTokens: 256,
      stopStrings: [],
    });
    expect(config.optimizer.betas).toEqual([0.9, 0.999]);
    expect(config.reward.weights).toEqual({ accuracy: 1, format: 0.5 });
    expect(config.train.promptsPerStep).toBe(8);
    expect(config.output.runDir).toBe("runs/apo");
    expect(config.backend).toBe("auto");
  });

  it("names an unknown key", () => {
    const error = errorOf(() => resolveConfig({ ...minimal, optimizer: { learningRate: 1 } }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe("optimizer.learningRate");
    expect((error as InvalidInputError).message).toBe(
      "Invalid trainer config at optimizer.learningRate: unknown key",
    );
  });

  it("names a bad value", () => {
    const error = errorOf(() => resolveConfig({ ...minimal, optimizer: { lr: -1 } })) as InvalidInputError;
    expect(error.field).toBe("optimizer.lr");
    const betas = errorOf(() => resolveConfig({ ...minimal, optimizer: { betas: [0.9, 1.5] } }));
    expect((betas as InvalidInputError).field).toBe("optimizer.betas[1]");
    const missing = errorOf(() =>
      resolveConfig({ model: { checkpoint: "demo" }, data: { format: "jsonl" } }),
    );
    expect((missing as InvalidInputError).problems.map((problem) => problem.field)).toEqual(
      expect.arrayContaining(["data.path", "train"]),
    );
  });

  it("rejects the removed micro-batch keys, naming their replacement", () => {
    const error = errorOf(() =>
      resolveConfig({ ...minimal, train: { steps: 1, promptsPerStep: 6, microBatchSize: 4 } }),
    ) as InvalidInputError;
    expect(error.field).toBe("train.microBatchSize");
    expect(error.reason).toContain("train.maxTokensPerMicroBatch");
    const accumulation = errorOf(() =>
      resolveConfig({ ...minimal, train: { steps: 1, promptsPerStep: 8, gradientAccumulation: 3 } }),
    ) as InvalidInputError;
    expect(accumulation.field).toBe("train.gradientAccumulation");
    expect(accumulation.reason).toContain("maxTokensPerMicroBatch");
    const budget = errorOf(() =>
      resolveConfig({ ...minimal, train: { steps: 1, maxTokensPerMicroBatch: 0 } }),
    ) as InvalidInputError;
    expect(budget.field).toBe("train.maxTokensPerMicroBatch");
  });

  it("parses overrides as YAML values", () => {
    expect(parseOverride("optimizer.lr=1e-6")).toEqual({ path: ["optimizer", "lr"], value: 1e-6 });
    expect(parseOverride("optimizer.betas=[0.9, 0.99]").value).toEqual([0.9, 0.99]);
    expect(parseOverride("model.checkpoint=demo").value).toBe("demo");
    expect(errorOf(() => parseOverride("optimizer.lr"))).toBeInstanceOf(ConfigError);
    expect(errorOf(() => parseOverride(".lr=1"))).toBeInstanceOf(ConfigError);
    const scalarParent = errorOf(() => applyOverrides({ backend: "cpu" }, ["backend.name=x"]));
    expect((scalarParent as ConfigError).reason).toContain("backend is not a section");
  });

  it("loads YAML and JSON files with overrides on top, and reports the file", () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-config-"));
    const yamlFile = join(directory, "run.yaml");
    writeFileSync(
      yamlFile,
      "model:\n  checkpoint: demo\ndata:\n  format: synthetic\ntrain:\n  steps: 5\noptimizer:\n  lr: 0.001\n",
    );
    const config = loadConfig({ file: yamlFile, overrides: ["optimizer.lr=2e-3", "train.seed=7"] });
    expect(config.optimizer.lr).toBe(2e-3);
    expect(config.train.seed).toBe(7);
    expect(config.train.steps).toBe(5);

    const jsonFile = join(directory, "run.json");
    writeFileSync(jsonFile, JSON.stringify({ ...minimal, rollout: { groupSize: 1 } }));
    const error = errorOf(() => loadConfig({ file: jsonFile })) as InvalidInputError;
    expect(error.subject).toBe(`config ${jsonFile}`);
    expect(error.field).toBe("rollout.groupSize");

    const unknownOverride = errorOf(() => loadConfig({ file: yamlFile, overrides: ["train.stepz=3"] }));
    expect((unknownOverride as InvalidInputError).field).toBe("train.stepz");

    const broken = join(directory, "broken.yaml");
    writeFileSync(broken, "model: [unclosed\n");
    expect((errorOf(() => loadConfig({ file: broken })) as ConfigError).source).toBe(broken);
    expect(errorOf(() => loadConfig({ file: join(directory, "missing.yaml") }))).toBeInstanceOf(ConfigError);
  });
});
