// Child process of checkpointCrash.test.ts: loads the TypeScript writer through Vite's module runner.
import { fileURLToPath } from "node:url";
import { runnerImport } from "vite";

const writer = fileURLToPath(new URL("./crashingCheckpointWriter.ts", import.meta.url));
const { module } = await runnerImport(writer, { configFile: false, logLevel: "silent" });
await module.run(process.argv[2]);
