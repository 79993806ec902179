import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MachineInfo, machineInfo } from "./machine.js";

/**
 * One benchmark's outcome: JSON-serialisable results, a markdown table, optional SVG charts.
 *
 * @since 0.1.0
 * @category results
 */
export interface BenchmarkOutcome {
  readonly results: unknown;
  readonly table: string;
  readonly charts?: Readonly<Record<string, string>>;
}

/**
 * The record written to `bench-results/<name>.json`.
 *
 * @since 0.1.0
 * @category results
 */
export interface BenchmarkRecord {
  readonly name: string;
  readonly startedAt: string;
  readonly wallSeconds: number;
  readonly machine: MachineInfo;
  readonly settings: unknown;
  readonly results: unknown;
}

const writeAtomically = (path: string, contents: string): void => {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
};

/**
 * Write `<name>.json`, `<name>.md` and each chart as `<name>-<chart>.svg` under `directory`.
 * Returns the paths written.
 *
 * @since 0.1.0
 * @category results
 */
export const writeBenchmark = (
  directory: string,
  name: string,
  settings: unknown,
  startedAt: Date,
  outcome: BenchmarkOutcome,
): ReadonlyArray<string> => {
  mkdirSync(directory, { recursive: true });
  const record: BenchmarkRecord = {
    name,
    startedAt: startedAt.toISOString(),
    wallSeconds: (Date.now() - startedAt.getTime()) / 1000,
    machine: machineInfo(),
    settings,
    results: outcome.results,
  };
  const written = [join(directory, `${name}.json`), join(directory, `${name}.md`)];
  writeAtomically(written[0]!, `${JSON.stringify(record, null, 2)}\n`);
  const machine = record.machine;
  const header = `# ${name}\n\n${machine.cpuModel} × ${machine.cpuCount}, ${machine.memoryGiB} GiB, Node ${machine.node}; ${record.startedAt}\n\n`;
  writeAtomically(written[1]!, `${header}${outcome.table}\n`);
  for (const [chart, svg] of Object.entries(outcome.charts ?? {})) {
    const path = join(directory, `${name}-${chart}.svg`);
    writeAtomically(path, svg);
    written.push(path);
  }
  return written;
};
