import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBenchCli } from "../../src/runBenchCli.js";

/** Run `apo-bench` in-process, capturing its output. */
export const bench = async (argv: ReadonlyArray<string>) => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = await runBenchCli(argv, {
    stdout: (text) => stdout.push(text),
    stderr: (text) => stderr.push(text),
  });
  return { status, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
};

/** A fresh output directory. */
export const outputDirectory = (): string => mkdtempSync(join(tmpdir(), "apo-bench-"));

/** The JSON record a run wrote. */
export const readRecord = (directory: string, name: string) =>
  JSON.parse(readFileSync(join(directory, `${name}.json`), "utf8")) as {
    readonly name: string;
    readonly machine: { readonly cpuCount: number; readonly packages: Record<string, string> };
    readonly settings: Record<string, unknown>;
    readonly results: Record<string, unknown>;
  };

/**
 * The data rows of the `index`-th markdown table a run wrote (header and rule skipped), split into
 * cells.
 */
export const tableRows = (directory: string, name: string, index = 0): ReadonlyArray<ReadonlyArray<string>> =>
  readFileSync(join(directory, `${name}.md`), "utf8")
    .split(/\n\s*\n/)
    .filter((block) => block.trim().startsWith("|"))
    [index]!.split("\n")
    .filter((line) => line.startsWith("|"))
    .slice(2)
    .map((line) =>
      line
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim()),
    );
