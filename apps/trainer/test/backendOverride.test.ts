import { describe, expect, it } from "vitest";
import { demoConfigFile } from "../src/demo/demoCli.js";
import { withEnvironmentBackend } from "../src/internal/backendOverride.js";
import { parseCliArguments } from "../src/internal/cliArguments.js";
import { loadConfig } from "../src/loadConfig.js";

describe("choosing the backend from the command line and APO_BACKEND", () => {
  it("--backend is a shorthand for --set backend=…", () => {
    expect(parseCliArguments(["--config", "run.yaml", "--backend", "webgpu"]).overrides).toEqual([
      "backend=webgpu",
    ]);
  });

  it("APO_BACKEND replaces the config file's backend; the command line replaces both", () => {
    const file = demoConfigFile(); // says `backend: wasm`
    const backendOf = (overrides: ReadonlyArray<string>, environment: Record<string, string | undefined>) =>
      loadConfig({ file, overrides: withEnvironmentBackend(overrides, environment) }).backend;
    expect(backendOf([], {})).toBe("wasm");
    expect(backendOf([], { APO_BACKEND: "webgpu" })).toBe("webgpu");
    expect(backendOf(["backend=cpu"], { APO_BACKEND: "webgpu" })).toBe("cpu");
    // A list is an order for `backend: auto`, not one backend: the file's choice stays.
    expect(backendOf([], { APO_BACKEND: "webgpu,wasm" })).toBe("wasm");
    expect(backendOf([], { APO_BACKEND: " " })).toBe("wasm");
  });
});
