import { readFile } from "node:fs/promises";
import { CheckpointError } from "../errors.js";

/**
 * Read and parse a JSON file of a checkpoint; a missing file or bad JSON fails with a
 * `CheckpointError` naming the file.
 */
export const readCheckpointJson = async (path: string): Promise<unknown> => {
  const text = await readFile(path, "utf8").catch((cause: Error) => {
    throw new CheckpointError({ path, reason: `cannot read: ${cause.message}` });
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new CheckpointError({ path, reason: `not valid JSON: ${(cause as Error).message}` });
  }
};
