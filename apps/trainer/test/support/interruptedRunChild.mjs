// Child process of signals.test.ts: runs apo-train (TypeScript, via Vite's module runner).
import { fileURLToPath } from "node:url";
import { runnerImport } from "vite";

const entry = fileURLToPath(new URL("./interruptedRunChild.ts", import.meta.url));
const { module } = await runnerImport(entry, { configFile: false, logLevel: "silent" });
process.exitCode = await module.run(process.argv.slice(2));
