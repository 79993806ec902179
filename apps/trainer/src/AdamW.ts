import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError } from "./errors.js";
import { InMemoryAdamW } from "./InMemoryAdamW.js";
import { readCheckpointJson } from "./internal/readCheckpointJson.js";

export type { AdamWMoments, AdamWOptions, AdamWState } from "./InMemoryAdamW.js";

const STATE_FILE = "optimizer.json";
const MOMENTS_FILE = "optimizer-moments.bin";

/**
 * {@link InMemoryAdamW} whose state also saves to a directory and restores bit-exactly.
 *
 * @since 0.1.0
 * @category optimizer
 */
export class AdamW extends InMemoryAdamW {
  /** Write `optimizer.json` and `optimizer-moments.bin` (little-endian float32) into `directory`. */
  async save(directory: string): Promise<void> {
    const state = await this.state();
    await mkdir(directory, { recursive: true });
    let offset = 0;
    const parameters = state.moments.map((moments) => {
      const entry = { name: moments.name, shape: moments.shape, offset, length: moments.firstMoment.length };
      offset += 2 * moments.firstMoment.length;
      return entry;
    });
    const buffer = new Float32Array(offset);
    state.moments.forEach((moments, index) => {
      buffer.set(moments.firstMoment, parameters[index]!.offset);
      buffer.set(moments.secondMoment, parameters[index]!.offset + moments.firstMoment.length);
    });
    await writeFile(join(directory, MOMENTS_FILE), new Uint8Array(buffer.buffer));
    const header = {
      format: "apo-rl/adamw",
      version: 1,
      step: state.step,
      options: this.options,
      parameters,
    };
    await writeFile(join(directory, STATE_FILE), `${JSON.stringify(header, null, 2)}\n`);
  }

  /** Restore from a directory written by {@link AdamW.save}. */
  async load(directory: string): Promise<void> {
    const statePath = join(directory, STATE_FILE);
    const header = (await readCheckpointJson(statePath)) as OptimizerHeader;
    if (header?.format !== "apo-rl/adamw" || header.version !== 1)
      throw new CheckpointError({ path: statePath, reason: "not an apo-rl AdamW state (format/version)" });
    const bytes = await readFile(join(directory, MOMENTS_FILE));
    const floats = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    const expected = header.parameters.reduce((sum, entry) => sum + 2 * entry.length, 0);
    if (floats.length !== expected)
      throw new CheckpointError({
        path: join(directory, MOMENTS_FILE),
        reason: `holds ${floats.length} floats, the header describes ${expected}`,
      });
    try {
      this.restore({
        step: header.step,
        moments: header.parameters.map((entry) => ({
          name: entry.name,
          shape: entry.shape,
          firstMoment: floats.slice(entry.offset, entry.offset + entry.length),
          secondMoment: floats.slice(entry.offset + entry.length, entry.offset + 2 * entry.length),
        })),
      });
    } catch (cause) {
      throw new CheckpointError({ path: statePath, reason: (cause as Error).message });
    }
  }
}

interface OptimizerHeader {
  readonly format: string;
  readonly version: number;
  readonly step: number;
  readonly parameters: ReadonlyArray<{
    readonly name: string;
    readonly shape: ReadonlyArray<number>;
    readonly offset: number;
    readonly length: number;
  }>;
}
