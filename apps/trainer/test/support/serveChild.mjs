// `apo-serve` from the TypeScript sources (no build needed): the command tests give rollout.spawn.
import { importTypeScript } from "../../../../scripts/support/runTypeScript.mjs";

await importTypeScript("../../src/serveCli.ts", import.meta.url);
