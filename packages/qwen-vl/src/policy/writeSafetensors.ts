import { writeAtomically } from "../internal/policy/atomicWrite.js";
import { elementCount, type SafetensorsTensorSource, safetensorsHeaderBytes } from "./encodeSafetensors.js";

export type { SafetensorsTensorSource } from "./encodeSafetensors.js";

/** Bytes of tensor data gathered before one write. */
const WRITE_BATCH_BYTES = 64 * 1024 * 1024;

/**
 * Write float32 tensors as a safetensors file (HF format: `F32` entries with `data_offsets`, a
 * `__metadata__` of `{ format: "pt" }` unless given, the header padded to 8 bytes). The file is
 * written to a temporary sibling and renamed into place, so a crash never leaves a torn file.
 * Names must be unique; each tensor's values must have `∏ shape` elements.
 *
 * @since 0.1.0
 * @category safetensors
 */
export const writeSafetensors = async (
  file: string,
  tensors: ReadonlyArray<SafetensorsTensorSource>,
  metadata: Readonly<Record<string, string>> = { format: "pt" },
): Promise<void> => {
  const names = new Set<string>();
  for (const tensor of tensors) {
    if (names.has(tensor.name) || tensor.name === "__metadata__") {
      throw new RangeError(`writeSafetensors ${file}: duplicate or reserved tensor name "${tensor.name}"`);
    }
    names.add(tensor.name);
  }
  await writeAtomically(file, async (handle) => {
    // Tensors are read one at a time and written in batches of up to WRITE_BATCH_BYTES, one
    // `writev` each: a small model (a rollout server's weight sync every step) in one system call,
    // a large one without a second copy of it in memory.
    let batch: Uint8Array[] = [safetensorsHeaderBytes(tensors, metadata)];
    let batchBytes = batch[0]!.byteLength;
    const flush = async () => {
      if (batch.length > 0) await handle.writev(batch);
      batch = [];
      batchBytes = 0;
    };
    for (const tensor of tensors) {
      const values = await tensor.values();
      if (values.length !== elementCount(tensor.shape)) {
        throw new RangeError(
          `writeSafetensors ${file}: tensor "${tensor.name}" has ${values.length} values, shape [${tensor.shape.join(", ")}] needs ${elementCount(tensor.shape)}`,
        );
      }
      // Safetensors is little-endian; so is every platform Node runs on.
      batch.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      batchBytes += values.byteLength;
      if (batchBytes >= WRITE_BATCH_BYTES) await flush();
    }
    await flush();
  });
};
