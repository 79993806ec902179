import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SafetensorsFile } from "../../../src/index.js";

/** One tensor to write: raw little-endian bytes in `dtype`. */
export interface RawTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: ReadonlyArray<number>;
  readonly bytes: Uint8Array;
}

export const temporaryDirectory = (): string => mkdtempSync(join(tmpdir(), "qwen-vl-test-"));

/** Serialise tensors in order as a safetensors file (optionally tampering with the header). */
export const encodeSafetensors = (
  tensors: ReadonlyArray<RawTensor>,
  editHeader: (
    header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>,
  ) => void = () => {},
): Uint8Array => {
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const tensor of tensors) {
    header[tensor.name] = {
      dtype: tensor.dtype,
      shape: [...tensor.shape],
      data_offsets: [offset, offset + tensor.bytes.length],
    };
    offset += tensor.bytes.length;
  }
  editHeader(header);
  const json = new TextEncoder().encode(JSON.stringify({ __metadata__: { format: "pt" }, ...header }));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let position = 8 + json.length;
  for (const tensor of tensors) {
    out.set(tensor.bytes, position);
    position += tensor.bytes.length;
  }
  return out;
};

export const f32Bytes = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer.slice(0));

/** Every tensor of a safetensors file as float32 raw tensors, in header order. */
export const readAllTensors = async (path: string): Promise<RawTensor[]> => {
  const file = await SafetensorsFile.open(path);
  try {
    const out: RawTensor[] = [];
    for (const entry of file.header.entries.values()) {
      out.push({
        name: entry.name,
        dtype: "F32",
        shape: entry.shape,
        bytes: f32Bytes(await file.read(entry.name)),
      });
    }
    return out;
  } finally {
    await file.close();
  }
};

export const writeFile = (directory: string, name: string, content: Uint8Array | string): string => {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
};
