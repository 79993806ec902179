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

/** The number of elements of a tensor of `shape`. */
export const elementCount = (shape: ReadonlyArray<number>): number =>
  shape.reduce((product, size) => product * size, 1);

/** The header bytes: 8-byte little-endian length, then JSON padded with spaces to 8-byte alignment. */
export const safetensorsHeaderBytes = (
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
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
};

/**
 * The bytes of a float32 safetensors file of `tensors` in order, exactly what `writeSafetensors`
 * writes to disk, built in memory (for a download in a page).
 *
 * @since 0.2.0
 * @category safetensors
 */
export const encodeSafetensors = async (
  tensors: ReadonlyArray<SafetensorsTensorSource>,
  metadata: Readonly<Record<string, string>> = { format: "pt" },
): Promise<Uint8Array> => {
  const names = new Set<string>();
  for (const tensor of tensors) {
    if (names.has(tensor.name) || tensor.name === "__metadata__")
      throw new RangeError(`encodeSafetensors: duplicate or reserved tensor name "${tensor.name}"`);
    names.add(tensor.name);
  }
  const header = safetensorsHeaderBytes(tensors, metadata);
  const total = tensors.reduce((sum, tensor) => sum + 4 * elementCount(tensor.shape), header.length);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let offset = header.length;
  for (const tensor of tensors) {
    const values = await tensor.values();
    if (values.length !== elementCount(tensor.shape))
      throw new RangeError(
        `encodeSafetensors: tensor "${tensor.name}" has ${values.length} values, shape [${tensor.shape.join(", ")}] needs ${elementCount(tensor.shape)}`,
      );
    // Little-endian, as safetensors requires, whatever the platform.
    const view = new DataView(out.buffer, offset, values.length * 4);
    for (let index = 0; index < values.length; index++) view.setFloat32(4 * index, values[index]!, true);
    offset += values.length * 4;
  }
  return out;
};
