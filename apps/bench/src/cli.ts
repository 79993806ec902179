#!/usr/bin/env node
import { runBenchCli } from "./runBenchCli.js";

runBenchCli(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(
      `apo-bench: unexpected failure\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
