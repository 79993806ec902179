import { writeAtomically } from "../internal/policy/atomicWrite.js";
import { elementCount, type SafetensorsTensorSource, safetensorsHeaderBytes } from "./encodeSafetensors.js";

export type { SafetensorsTensorSource } from "./encodeSafetensors.js";

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
    await handle.write(safetensorsHeaderBytes(tensors, metadata));
    for (const tensor of tensors) {
      const values = await tensor.values();
      if (values.length !== elementCount(tensor.shape)) {
        throw new RangeError(
          `writeSafetensors ${file}: tensor "${tensor.name}" has ${values.length} values, shape [${tensor.shape.join(", ")}] needs ${elementCount(tensor.shape)}`,
        );
      }
      const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      // Safetensors is little-endian; so is every platform Node runs on.
      await handle.write(bytes);
    }
  });
};
