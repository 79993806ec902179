import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { bf16ToFloat32, f16ToFloat32 } from "../internal/safetensors/convert.js";
import {
  CheckpointFileError,
  SafetensorsDtypeError,
  SafetensorsHeaderError,
  SafetensorsOffsetError,
} from "./errors.js";

/**
 * Storage types this reader converts to float32.
 *
 * @since 0.1.0
 * @category safetensors
 */
export type SafetensorsDtype = "F32" | "F16" | "BF16";

const bytesPerElement: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Largest header accepted, as in the reference implementation (100 MB).
 *
 * @since 0.1.0
 * @category safetensors
 */
export const maxSafetensorsHeaderBytes = 100_000_000;

/**
 * One tensor of a safetensors file. `begin`/`end` are absolute byte offsets in the file.
 *
 * @since 0.1.0
 * @category safetensors
 */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: ReadonlyArray<number>;
  readonly begin: number;
  readonly end: number;
}

/**
 * The validated header of a safetensors file.
 *
 * @since 0.1.0
 * @category safetensors
 */
export interface SafetensorsHeader {
  readonly file: string;
  readonly fileSize: number;
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

const isNonNegativeInteger = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

const parseEntry = (
  file: string,
  name: string,
  raw: unknown,
  dataStart: number,
  fileSize: number,
): SafetensorsEntry => {
  const headerError = (reason: string) => new SafetensorsHeaderError({ file, tensor: name, reason });
  if (typeof raw !== "object" || raw === null) throw headerError("entry is not an object");
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== "string") throw headerError("dtype is not a string");
  if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16") {
    throw new SafetensorsDtypeError({
      file,
      tensor: name,
      dtype,
      reason: `dtype ${dtype} is not supported (expected F32, F16 or BF16)`,
    });
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw headerError("shape is not an array of non-negative integers");
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw headerError("data_offsets is not a pair of non-negative integers");
  }
  const [begin, end] = offsets as [number, number];
  const offsetError = (reason: string) => new SafetensorsOffsetError({ file, tensor: name, reason });
  if (end < begin) throw offsetError(`data_offsets [${begin}, ${end}] end before they begin`);
  const expectedBytes = shape.reduce((a: number, b: number) => a * b, 1) * bytesPerElement[dtype];
  if (end - begin !== expectedBytes) {
    throw offsetError(
      `data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype}[${shape.join(", ")}] needs ${expectedBytes}`,
    );
  }
  if (dataStart + end > fileSize) {
    throw offsetError(
      `data ends at byte ${dataStart + end} but the file has ${fileSize} bytes (truncated file?)`,
    );
  }
  return { name, dtype, shape, begin: dataStart + begin, end: dataStart + end };
};

const checkOverlaps = (file: string, entries: ReadonlyArray<SafetensorsEntry>): void => {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let index = 1; index < sorted.length; index++) {
    const previous = sorted[index - 1]!;
    const current = sorted[index]!;
    if (current.begin < previous.end && current.end > current.begin) {
      throw new SafetensorsOffsetError({
        file,
        tensor: current.name,
        reason: `its bytes overlap those of "${previous.name}"`,
      });
    }
  }
};

const readExactly = async (handle: FileHandle, target: Uint8Array, position: number): Promise<number> => {
  let filled = 0;
  while (filled < target.length) {
    const chunk = Math.min(target.length - filled, 1 << 30);
    const { bytesRead } = await handle.read(target, filled, chunk, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
};

const openFile = async (file: string): Promise<FileHandle> => {
  try {
    return await open(file, "r");
  } catch (error) {
    throw new CheckpointFileError({ file, reason: `cannot open: ${(error as Error).message}` });
  }
};

/**
 * A safetensors file opened for reading tensors one at a time. The header is read and validated
 * on {@link SafetensorsFile.open}; tensor bytes are read from disk only when asked for.
 *
 * @since 0.1.0
 * @category safetensors
 */
export class SafetensorsFile {
  private constructor(
    private readonly handle: FileHandle,
    /** The validated header. */
    readonly header: SafetensorsHeader,
  ) {}

  /**
   * Open a file and validate its header: the length prefix is within the file and the 100 MB
   * bound, the header is a JSON object, every dtype is F32/F16/BF16, every tensor's bytes lie inside
   * the file and match its shape, and no two tensors overlap. Each defect throws a typed error
   * naming the file and tensor.
   */
  static async open(file: string): Promise<SafetensorsFile> {
    const handle = await openFile(file);
    try {
      return new SafetensorsFile(handle, await readHeader(handle, file));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Read one tensor and convert it to float32 (a fresh buffer of exactly that tensor's size). */
  async read(name: string): Promise<Float32Array> {
    const entry = this.header.entries.get(name);
    if (entry === undefined) {
      throw new SafetensorsHeaderError({ file: this.header.file, tensor: name, reason: "no such tensor" });
    }
    const bytes = new Uint8Array(entry.end - entry.begin);
    const read = await readExactly(this.handle, bytes, entry.begin);
    if (read !== bytes.length) {
      throw new SafetensorsOffsetError({
        file: this.header.file,
        tensor: name,
        reason: `expected ${bytes.length} bytes at offset ${entry.begin}, the file ended after ${read}`,
      });
    }
    return toFloat32(entry.dtype, bytes);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

const toFloat32 = (dtype: SafetensorsDtype, bytes: Uint8Array): Float32Array => {
  if (dtype === "F32") return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return dtype === "BF16" ? bf16ToFloat32(halves) : f16ToFloat32(halves);
};

const readHeader = async (handle: FileHandle, file: string): Promise<SafetensorsHeader> => {
  const fileSize = (await handle.stat()).size;
  const headerError = (reason: string) => new SafetensorsHeaderError({ file, tensor: "", reason });
  if (fileSize < 8) throw headerError(`the file has ${fileSize} bytes, fewer than the 8-byte length prefix`);
  const prefix = new Uint8Array(8);
  await readExactly(handle, prefix, 0);
  const length = new DataView(prefix.buffer).getBigUint64(0, true);
  if (length > BigInt(maxSafetensorsHeaderBytes)) {
    throw headerError(`header length ${length} exceeds the ${maxSafetensorsHeaderBytes}-byte bound`);
  }
  const headerLength = Number(length);
  if (8 + headerLength > fileSize) {
    throw headerError(`header length ${headerLength} runs past the end of the file (${fileSize} bytes)`);
  }
  const headerBytes = new Uint8Array(headerLength);
  await readExactly(handle, headerBytes, 8);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw headerError(`header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw headerError("header is not a JSON object");
  }
  const dataStart = 8 + headerLength;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    entries.set(name, parseEntry(file, name, raw, dataStart, fileSize));
  }
  checkOverlaps(file, [...entries.values()]);
  return { file, fileSize, entries, metadata };
};
