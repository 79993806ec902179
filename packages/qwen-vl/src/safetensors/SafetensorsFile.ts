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
 * Options of {@link SafetensorsFile.open}.
 *
 * @since 0.2.0
 * @category safetensors
 */
export interface SafetensorsFileOptions {
  /**
   * A file whose tensor bytes take at most this many is read whole, in one read, at its first
   * tensor read, and its tensors are then served from memory (default 64 MiB: a small model, e.g. a
   * rollout server's weight sync every step, costs one system call instead of one per tensor); a
   * larger one is read one tensor at a time, never all in memory. 0: always one at a time.
   */
  readonly readWholeUpToBytes?: number;
}

/** A small file's tensor bytes from offset `begin`, of which `read` could be read. */
interface WholeFile {
  readonly begin: number;
  readonly bytes: Uint8Array;
  readonly read: number;
}

/** Default of {@link SafetensorsFileOptions.readWholeUpToBytes}. */
const READ_WHOLE_UP_TO_BYTES = 64 * 1024 * 1024;

/**
 * A safetensors file opened for reading tensors one at a time. The header is read and validated
 * on {@link SafetensorsFile.open}; tensor bytes are read from disk only when asked for (a small
 * file's all at once, see {@link SafetensorsFileOptions}).
 *
 * @since 0.1.0
 * @category safetensors
 */
export class SafetensorsFile {
  /**
   * The tensor bytes of a small file, read once: from `begin` (the first tensor's offset); `null`
   * once the file is known to be too large to read whole.
   */
  private whole: Promise<WholeFile> | null | undefined;

  private constructor(
    private readonly handle: FileHandle,
    /** The validated header. */
    readonly header: SafetensorsHeader,
    private readonly readWholeUpToBytes: number,
  ) {}

  /** The tensor bytes `[begin, end)` of the file when it is small enough to be read whole. */
  private wholeBytes(): Promise<WholeFile> | null {
    if (this.whole !== undefined) return this.whole;
    let begin = Number.POSITIVE_INFINITY;
    let end = 0;
    for (const entry of this.header.entries.values()) {
      begin = Math.min(begin, entry.begin);
      end = Math.max(end, entry.end);
    }
    if (end <= begin || end - begin > this.readWholeUpToBytes) this.whole = null;
    else {
      const bytes = new Uint8Array(end - begin);
      this.whole = readExactly(this.handle, bytes, begin).then((read) => ({ begin, bytes, read }));
    }
    return this.whole;
  }

  /**
   * Open a file and validate its header: the length prefix is within the file and the 100 MB
   * bound, the header is a JSON object, every dtype is F32/F16/BF16, every tensor's bytes lie inside
   * the file and match its shape, and no two tensors overlap. Each defect throws a typed error
   * naming the file and tensor.
   */
  static async open(file: string, options: SafetensorsFileOptions = {}): Promise<SafetensorsFile> {
    const handle = await openFile(file);
    try {
      const fileSize = (await handle.stat()).size;
      const header = await parseSafetensorsHeader(file, fileSize, (target, position) =>
        readExactly(handle, target, position),
      );
      return new SafetensorsFile(handle, header, options.readWholeUpToBytes ?? READ_WHOLE_UP_TO_BYTES);
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
    let bytes: Uint8Array;
    let read: number;
    const whole = await this.wholeBytes();
    if (whole === null) {
      bytes = new Uint8Array(entry.end - entry.begin);
      read = await readExactly(this.handle, bytes, entry.begin);
    } else {
      // A copy: a fresh, aligned buffer of exactly this tensor's size, as a read of its own gives.
      bytes = whole.bytes.slice(entry.begin - whole.begin, entry.end - whole.begin);
      read = Math.max(0, Math.min(whole.read - (entry.begin - whole.begin), bytes.length));
    }
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
