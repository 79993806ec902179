import { fileURLToPath } from "node:url";
import { loadConfig } from "@apo-rl/trainer";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SETTINGS,
  objectiveOptions,
  parseSettings,
  SettingsError,
  settingsQuery,
  trainerConfigOf,
} from "../src/settings.js";

const demoYaml = fileURLToPath(new URL("../../trainer/assets/demo/demo.yaml", import.meta.url));

/** What `apo-train --config demo.yaml --set …` resolves, without the run directory. */
const nodeConfig = (overrides: ReadonlyArray<string>) => {
  const { output: _output, ...config } = loadConfig({ file: demoYaml, overrides });
  return config;
};
const pageConfig = (query: string) => {
  const { output: _output, ...config } = trainerConfigOf(parseSettings(new URLSearchParams(query)));
  return config;
};

describe("the playground's settings", () => {
  it("default to the demo: the config apo-train demo resolves from demo.yaml", () => {
    // Except the backend: the page's default is auto (webgpu when the browser has an adapter).
    expect(pageConfig("")).toEqual(nodeConfig(["backend=auto"]));
    expect(pageConfig("backend=wasm")).toEqual(nodeConfig([]));
    expect(DEFAULT_SETTINGS).toMatchObject({
      objective: "apo",
      steps: 100,
      groupSize: 8,
      promptsPerStep: 4,
      seed: 1,
    });
  });

  it("map each URL parameter to the trainer key apo-train's --set would change", () => {
    expect(
      pageConfig(
        "objective=apo&beta=0.01&clip=0.3&stcrBase=1.001&dads=0&stcr=1&steps=5&groupSize=4&promptsPerStep=2&lr=0.0003&seed=7&evalEvery=5&heldOutSize=16&backend=webgpu",
      ),
    ).toEqual(
      nodeConfig([
        "objective.options={beta: 0.01, clipLow: 0.3, clipHigh: 0.3, dads: false, stcr: true, stcrBase: 1.001}",
        "train.steps=5",
        "rollout.groupSize=4",
        "train.promptsPerStep=2",
        "optimizer.lr=0.0003",
        "train.seed=7",
        "train.evalEvery=5",
        "data.heldOutSize=16",
        "backend=webgpu",
      ]),
    );
    expect(pageConfig("objective=grpo").objective).toEqual({ name: "grpo", options: {} });
  });

  it("name the bad parameter", () => {
    const reject = (query: string, key: string, reason: RegExp) => {
      let caught: unknown;
      try {
        parseSettings(new URLSearchParams(query));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SettingsError);
      expect((caught as SettingsError).key).toBe(key);
      expect((caught as SettingsError).reason).toMatch(reason);
    };
    reject("objective=ppo", "objective", /expected one of grpo, drGrpo, dapo, grpoD, apo, gspo/);
    reject("steps=many", "steps", /expected a number/);
    reject("dads=maybe", "dads", /expected 1\/0/);
    reject("backend=metal", "backend", /expected one of auto, webgpu, wasm, cpu/);
    reject("colour=red", "colour", /unknown parameter/);
  });

  it("round-trip through the URL query", () => {
    const settings = parseSettings(
      new URLSearchParams("objective=dapo&clip=0.25&steps=3&autostart=1&dads=1"),
    );
    expect(parseSettings(new URLSearchParams(settingsQuery(settings)))).toEqual(settings);
    expect(settingsQuery(DEFAULT_SETTINGS)).toBe("");
    expect(objectiveOptions(settings)).toEqual({ clipLow: 0.25, clipHigh: 0.25, dads: true });
  });
});
