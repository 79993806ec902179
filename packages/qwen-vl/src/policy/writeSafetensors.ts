import { writeAtomically } from "../internal/policy/atomicWrite.js";

/**
 * One float32 tensor to write: its shape and a function giving its row-major values (called once,
 * in order, so a large checkpoint never holds more than one tensor's bytes at a time).
 *
 * @since 0.1.0
 * @category safetensors
 */
export interface SafetensorsTensorSource {
  readonly name: string;
  readonly shape: ReadonlyArray<number>;
  readonly values: () => Float32Array | Promise<Float32Array>;
}

const elementCount = (shape: ReadonlyArray<number>): number =>
  shape.reduce((product, size) => product * size, 1);

/** The header bytes: 8-byte little-endian length, then JSON padded with spaces to 8-byte alignment. */
const headerBytes = (
  tensors: ReadonlyArray<SafetensorsTensorSource>,
  metadata: Readonly<Record<string, string>>,
): Uint8Array => {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    const bytes = elementCount(tensor.shape) * 4;
    header[tensor.name] = { dtype: "F32", shape: [...tensor.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(8 + padded, 0x20);
  out.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(out, 8);
  return out;
};

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
    await handle.write(headerBytes(tensors, metadata));
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
