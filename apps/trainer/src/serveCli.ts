#!/usr/bin/env node
import { runServeCli } from "./serve/serveCommand.js";

runServeCli(process.argv.slice(2)).then(
  (status) => {
    process.exit(status);
  },
  (error: unknown) => {
    process.stderr.write(
      `apo-serve: unexpected failure\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
