import { bf16ToFloat32, f16ToFloat32 } from "../internal/safetensors/convert.js";
import { SafetensorsDtypeError, SafetensorsHeaderError, SafetensorsOffsetError } from "./errors.js";

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

/**
 * Convert one tensor's stored bytes to float32.
 *
 * @since 0.2.0
 * @category safetensors
 */
export const toFloat32 = (dtype: SafetensorsDtype, bytes: Uint8Array): Float32Array => {
  if (dtype === "F32") return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return dtype === "BF16" ? bf16ToFloat32(halves) : f16ToFloat32(halves);
};

/**
 * Reads `length` bytes at `position` of a safetensors source; may return fewer at its end.
 *
 * @since 0.2.0
 * @category safetensors
 */
export type ReadBytes = (target: Uint8Array, position: number) => Promise<number>;

/**
 * Read and validate the header of a safetensors source of `fileSize` bytes named `file` (in errors):
 * the length prefix is within the file and the 100 MB bound, the header is a JSON object, every
 * dtype is F32/F16/BF16, every tensor's bytes lie inside the file and match its shape, and no two
 * tensors overlap.
 *
 * @since 0.2.0
 * @category safetensors
 */
export const parseSafetensorsHeader = async (
  file: string,
  fileSize: number,
  readBytes: ReadBytes,
): Promise<SafetensorsHeader> => {
  const headerError = (reason: string) => new SafetensorsHeaderError({ file, tensor: "", reason });
  if (fileSize < 8) throw headerError(`the file has ${fileSize} bytes, fewer than the 8-byte length prefix`);
  const prefix = new Uint8Array(8);
  await readBytes(prefix, 0);
  const length = new DataView(prefix.buffer).getBigUint64(0, true);
  if (length > BigInt(maxSafetensorsHeaderBytes)) {
    throw headerError(`header length ${length} exceeds the ${maxSafetensorsHeaderBytes}-byte bound`);
  }
  const headerLength = Number(length);
  if (8 + headerLength > fileSize) {
    throw headerError(`header length ${headerLength} runs past the end of the file (${fileSize} bytes)`);
  }
  const headerBytes = new Uint8Array(headerLength);
  await readBytes(headerBytes, 8);
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
