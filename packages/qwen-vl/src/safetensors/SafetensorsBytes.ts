import { SafetensorsHeaderError } from "./errors.js";
import { parseSafetensorsHeader, type SafetensorsHeader, toFloat32 } from "./SafetensorsHeader.js";

/**
 * A safetensors file held in memory (an `ArrayBuffer` fetched in a page, a `Uint8Array`), read one
 * tensor at a time with the same validation as `SafetensorsFile` (which reads from disk).
 *
 * @since 0.2.0
 * @category safetensors
 */
export class SafetensorsBytes {
  private constructor(
    private readonly bytes: Uint8Array,
    /** The validated header. */
    readonly header: SafetensorsHeader,
  ) {}

  /**
   * Validate the header of `bytes`; `file` names the source in errors (default
   * `model.safetensors`). Each defect throws the typed error `SafetensorsFile.open` throws.
   */
  static async from(bytes: Uint8Array | ArrayBuffer, file = "model.safetensors"): Promise<SafetensorsBytes> {
    const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const header = await parseSafetensorsHeader(file, view.byteLength, async (target, position) => {
      const available = view.subarray(position, position + target.length);
      target.set(available);
      return available.length;
    });
    return new SafetensorsBytes(view, header);
  }

  /** Read one tensor and convert it to float32 (a fresh buffer of exactly that tensor's size). */
  async read(name: string): Promise<Float32Array> {
    const entry = this.header.entries.get(name);
    if (entry === undefined)
      throw new SafetensorsHeaderError({ file: this.header.file, tensor: name, reason: "no such tensor" });
    // A copy: the tensor's offset in the file need not be aligned for a Float32Array view.
    return toFloat32(entry.dtype, this.bytes.slice(entry.begin, entry.end));
  }

  async close(): Promise<void> {}
}
