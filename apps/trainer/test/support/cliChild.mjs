// `apo-train` in a child process, from the sources (no build needed): argv as on the command line.
import { importTypeScript } from "../../../../scripts/support/runTypeScript.mjs";

const { runCli } = await importTypeScript("../../src/runCli.ts", import.meta.url);
const status = await runCli(process.argv.slice(2));
process.exit(status);
