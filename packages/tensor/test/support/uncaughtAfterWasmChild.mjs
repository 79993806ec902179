// Child process of uncaught-error-output.test.ts: initialise the wasm backend, then fail uncaught.
import { importTypeScript } from "../../../../scripts/support/runTypeScript.mjs";

const { initBackend } = await importTypeScript("../../src/index.ts", import.meta.url);
await initBackend("wasm");

class ProcessorConfigError extends Error {
  name = "ProcessorConfigError";
}
const error = new ProcessorConfigError("preprocessor_config.json: patch_size must be a positive integer");
if (process.argv[2] === "rejection") Promise.reject(error);
else
  setTimeout(() => {
    throw error;
  }, 0);
