import { appendFile, readFile, writeFile } from "node:fs/promises";
import type { MetricsRecord } from "./metrics.js";

/**
 * Append one record to a `metrics.jsonl` file.
 *
 * @since 0.1.0
 * @category metrics
 */
export const appendMetrics = (file: string, record: MetricsRecord): Promise<void> =>
  appendFile(file, `${JSON.stringify(record)}\n`);

/**
 * Keep only the records of steps up to `step` (used on resume, so the log matches the checkpoint).
 *
 * @since 0.1.0
 * @category metrics
 */
export const truncateMetrics = async (file: string, step: number): Promise<void> => {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return;
  const kept = text.split("\n").filter((line) => {
    if (line.trim() === "") return false;
    try {
      return (JSON.parse(line) as MetricsRecord).step <= step;
    } catch {
      return false;
    }
  });
  await writeFile(file, kept.map((line) => `${line}\n`).join(""));
};
