import { runCli } from "../../src/runCli.js";
import { samplerCursor } from "../../src/TrainingData.js";
import { examples, makePolicy } from "./sayNumberTask.js";

/**
 * Run in a child process by the signal test: `apo-train` on the say-a-number task with the
 * tabular policy plugged in, signals handled as in the real CLI. Each progress line is echoed
 * to stdout after a short pause so the parent can signal mid-run.
 */
export const run = async (argv: ReadonlyArray<string>): Promise<number> =>
  runCli(
    argv,
    { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
    {
      progress: (line) => {
        process.stdout.write(`${line}\n`);
        const until = Date.now() + 150;
        while (Date.now() < until) {
          // a slow step: gives the parent time to deliver its signal mid-run
        }
      },
      hooks: {
        createPolicy: async () => makePolicy(),
        createData: async () => ({ train: samplerCursor(examples, 2), heldOut: [] }),
      },
    },
  );
