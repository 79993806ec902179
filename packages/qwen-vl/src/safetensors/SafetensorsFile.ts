import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { CheckpointFileError, SafetensorsHeaderError, SafetensorsOffsetError } from "./errors.js";
import { parseSafetensorsHeader, type SafetensorsHeader, toFloat32 } from "./SafetensorsHeader.js";

export {
  maxSafetensorsHeaderBytes,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from "./SafetensorsHeader.js";

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
      const fileSize = (await handle.stat()).size;
      const header = await parseSafetensorsHeader(file, fileSize, (target, position) =>
        readExactly(handle, target, position),
      );
      return new SafetensorsFile(handle, header);
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
