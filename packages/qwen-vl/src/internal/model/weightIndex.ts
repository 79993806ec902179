import { CheckpointFileError } from "../../safetensors/errors.js";
import type { SafetensorsHeader } from "../../safetensors/SafetensorsHeader.js";
import { canonicalWeightName } from "./weightSpec.js";

/** A safetensors source read one tensor at a time (a file on disk, bytes in memory). */
export interface SafetensorsSource {
  readonly header: SafetensorsHeader;
  read(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Where a canonical weight lives. */
export interface WeightLocation {
  readonly file: SafetensorsSource;
  /** The tensor's name inside the file. */
  readonly stored: string;
}

/** The opened files of a checkpoint directory and a canonical-name index over them. */
export interface Checkpoint {
  /** What to name in "missing weight" errors: the index file or the single shard. */
  readonly source: string;
  readonly weights: ReadonlyMap<string, WeightLocation>;
  close(): Promise<void>;
}

export const addWeight = (
  weights: Map<string, WeightLocation>,
  file: SafetensorsSource,
  stored: string,
): void => {
  const name = canonicalWeightName(stored);
  const existing = weights.get(name);
  if (existing !== undefined) {
    throw new CheckpointFileError({
      file: file.header.file,
      reason: `tensor "${stored}" and "${existing.stored}" (${existing.file.header.file}) are the same weight "${name}"`,
    });
  }
  weights.set(name, { file, stored });
};

/** A checkpoint of one safetensors source (every tensor of it indexed by canonical name). */
export const singleSourceCheckpoint = (file: SafetensorsSource): Checkpoint => {
  const weights = new Map<string, WeightLocation>();
  for (const stored of file.header.entries.keys()) addWeight(weights, file, stored);
  return { source: file.header.file, weights, close: () => file.close() };
};
