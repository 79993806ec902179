import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A copy of checkpoint `directory` whose `model.safetensors` holds NaN as element `index` of the
 * float32 tensor `tensor` (written straight into the file's bytes).
 */
export const poisonedCopy = (directory: string, tensor: string, index = 3): string => {
  const copy = join(mkdtempSync(join(tmpdir(), "apo-nan-")), "checkpoint");
  cpSync(directory, copy, { recursive: true });
  const file = join(copy, "model.safetensors");
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<
    string,
    { dtype: string; data_offsets: [number, number] }
  >;
  const entry = header[tensor];
  if (entry?.dtype !== "F32") throw new Error(`${tensor} is not a float32 tensor of ${file}`);
  bytes.writeFloatLE(Number.NaN, 8 + headerLength + entry.data_offsets[0] + 4 * index);
  writeFileSync(file, bytes);
  return copy;
};
