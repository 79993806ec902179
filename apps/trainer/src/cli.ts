#!/usr/bin/env node
import { runDemoCli } from "./demo/demoCli.js";
import { runCli } from "./runCli.js";
import { runSftCli } from "./sft/sftCli.js";

const argv = process.argv.slice(2);
const subcommands: Record<string, (rest: ReadonlyArray<string>) => Promise<number>> = {
  sft: runSftCli,
  demo: runDemoCli,
};
const subcommand = argv[0] === undefined ? undefined : subcommands[argv[0]];

(subcommand === undefined ? runCli(argv) : subcommand(argv.slice(1))).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(
      `apo-train: unexpected failure\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
