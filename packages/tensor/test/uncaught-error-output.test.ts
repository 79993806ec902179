import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const child = fileURLToPath(new URL("./support/uncaughtAfterWasmChild.mjs", import.meta.url));

// Emscripten's glue rethrows from process listeners: Node then printed the glue's source line
// (about 30 KB when minified) before the error and exited with 7.
describe("an uncaught error after initBackend('wasm')", () => {
  for (const kind of ["exception", "rejection"] as const)
    it(`prints the error itself, under 2 KB, and exits with 1 (${kind})`, () => {
      const result = spawnSync(process.execPath, [child, kind], { encoding: "utf8", timeout: 60_000 });
      expect(result.stderr).toContain(
        "ProcessorConfigError: preprocessor_config.json: patch_size must be a positive integer",
      );
      expect(result.stderr).toContain("uncaughtAfterWasmChild.mjs");
      expect(result.stderr).not.toContain("tf-backend-wasm");
      expect(Buffer.byteLength(result.stderr)).toBeLessThan(2048);
      expect(result.status).toBe(1);
    }, 90_000);
});
