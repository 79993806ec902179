// `apo-serve` from the TypeScript sources (no build needed): the command tests give rollout.spawn.
import { importTypeScript } from "./runTypeScript.mjs";

await importTypeScript("../../src/serveCli.ts");
