import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { machineInfo } from "../src/machine.js";

const manifestVersion = (path: string) =>
  (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;

describe("machineInfo", () => {
  it("records the versions of the packages a result depends on, the tfjs backends included", () => {
    const info = machineInfo();
    expect(info.cpuCount).toBeGreaterThan(0);
    expect(info.node).toBe(process.version);
    const tensorManifest = new URL("../../../packages/tensor/package.json", import.meta.url);
    const tensor = JSON.parse(readFileSync(tensorManifest, "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(info.packages["@apo-rl/tensor"]).toBe(manifestVersion(tensorManifest.pathname));
    // The wasm backend is @apo-rl/tensor's dependency, pinned to an exact version there.
    expect(info.packages["@tensorflow/tfjs-backend-wasm"]).toBe(
      tensor.dependencies["@tensorflow/tfjs-backend-wasm"],
    );
    expect(info.packages["effect"]).toBe("4.1.0");
  });
});
