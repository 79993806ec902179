#!/usr/bin/env node
// `pnpm demo`: run the embedded demo (APO on the synthetic counting task) with the built trainer CLI.
// Extra arguments are passed on, e.g. `pnpm demo --set train.steps=20`. See docs/demo.md.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../apps/trainer/dist/cli.js", import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(`demo: ${cli} is missing; build first (pnpm build)\n`);
  process.exit(1);
}
const child = spawn(process.execPath, [cli, "demo", ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
});
