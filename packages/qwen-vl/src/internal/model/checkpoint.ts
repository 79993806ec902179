import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointFileError, MissingWeightError } from "../../safetensors/errors.js";
import { SafetensorsFile } from "../../safetensors/SafetensorsFile.js";
import { addWeight, type Checkpoint, type WeightLocation } from "./weightIndex.js";

export type { Checkpoint, SafetensorsSource, WeightLocation } from "./weightIndex.js";

const readIndex = async (path: string): Promise<Record<string, string>> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new CheckpointFileError({ file: path, reason: `not readable JSON (${(error as Error).message})` });
  }
  const map = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (
    typeof map !== "object" ||
    map === null ||
    !Object.values(map).every((value) => typeof value === "string")
  ) {
    throw new CheckpointFileError({
      file: path,
      reason: "weight_map is not an object of tensor name → file name",
    });
  }
  return map as Record<string, string>;
};

const openAll = async (paths: ReadonlyArray<string>): Promise<Map<string, SafetensorsFile>> => {
  const files = new Map<string, SafetensorsFile>();
  try {
    for (const path of paths) files.set(path, await SafetensorsFile.open(path));
  } catch (error) {
    await Promise.all([...files.values()].map((file) => file.close()));
    throw error;
  }
  return files;
};

/**
 * Open `model.safetensors.index.json` and its shards, or the single `model.safetensors`, validating
 * every header before any tensor data is read.
 */
export const openCheckpoint = async (directory: string): Promise<Checkpoint> => {
  const indexPath = join(directory, "model.safetensors.index.json");
  const singlePath = join(directory, "model.safetensors");
  if (!existsSync(indexPath) && !existsSync(singlePath)) {
    throw new CheckpointFileError({
      file: directory,
      reason: "neither model.safetensors nor model.safetensors.index.json is present",
    });
  }
  const map = existsSync(indexPath) ? await readIndex(indexPath) : undefined;
  const paths =
    map === undefined ? [singlePath] : [...new Set(Object.values(map))].map((name) => join(directory, name));
  const files = await openAll(paths);
  const close = async () => {
    await Promise.all([...files.values()].map((file) => file.close()));
  };
  try {
    const weights = new Map<string, WeightLocation>();
    if (map === undefined) {
      const file = files.get(singlePath)!;
      for (const stored of file.header.entries.keys()) addWeight(weights, file, stored);
    } else {
      for (const [stored, shard] of Object.entries(map)) {
        const file = files.get(join(directory, shard))!;
        if (!file.header.entries.has(stored)) {
          throw new MissingWeightError({
            file: file.header.file,
            tensor: stored,
            reason: "model.safetensors.index.json lists it in this file but the file does not hold it",
          });
        }
        addWeight(weights, file, stored);
      }
    }
    return { source: map === undefined ? singlePath : indexPath, weights, close };
  } catch (error) {
    await close();
    throw error;
  }
};
