import { decodeQwen25VLConfig, type Qwen25VLConfig } from "../config/Qwen25VLConfig.js";
import { modelFromCheckpoint } from "../internal/model/modelFromCheckpoint.js";
import { singleSourceCheckpoint } from "../internal/model/weightIndex.js";
import { CheckpointFileError } from "../safetensors/errors.js";
import { SafetensorsBytes } from "../safetensors/SafetensorsBytes.js";
import type { Qwen25VLModel } from "./Qwen25VLModel.js";
import type { Qwen25VLParts } from "./Qwen25VLParts.js";
import type { TrainableOption } from "./variables.js";

/**
 * A Qwen2.5-VL checkpoint held in memory: the parsed `config.json` and the bytes of
 * `model.safetensors`.
 *
 * @since 0.2.0
 * @category loading
 */
export interface Qwen25VLCheckpointBytes {
  /** The parsed `config.json` (decoded and checked as `readQwen25VLConfig` does). */
  readonly config: unknown;
  readonly weights: Uint8Array | ArrayBuffer;
  /** Names the source in errors (default `config.json` / `model.safetensors`). */
  readonly source?: string;
}

/**
 * Options of {@link loadQwen25VLFromBytes} and {@link loadQwen25VLFromUrl}.
 *
 * @since 0.2.0
 * @category loading
 */
export interface LoadQwen25VLBytesOptions {
  /** `"text"` loads only the decoder, `"vision"` only the vision tower. Default `"all"`. */
  readonly parts?: Qwen25VLParts;
  /** Which weights become trainable variables (default none). */
  readonly trainable?: TrainableOption;
}

/**
 * {@link loadQwen25VL} from memory, for hosts without a file system (a browser page): the same
 * header, presence, shape and finiteness checks, with the same typed errors. One
 * `model.safetensors` (no shards); the memory-bound check of `loadQwen25VL` is not made.
 *
 * @since 0.2.0
 * @category loading
 */
export const loadQwen25VLFromBytes = async (
  checkpoint: Qwen25VLCheckpointBytes,
  options: LoadQwen25VLBytesOptions = {},
): Promise<Qwen25VLModel> => {
  const prefix = checkpoint.source === undefined ? "" : `${checkpoint.source}/`;
  const config: Qwen25VLConfig = decodeQwen25VLConfig(checkpoint.config, `${prefix}config.json`, {
    requireModelFields: true,
  });
  const file = await SafetensorsBytes.from(checkpoint.weights, `${prefix}model.safetensors`);
  return modelFromCheckpoint(config, singleSourceCheckpoint(file), options.parts ?? "all", options.trainable);
};

const fetchOk = async (url: URL): Promise<Response> => {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new CheckpointFileError({ file: url.href, reason: `cannot fetch: ${(cause as Error).message}` });
  }
  if (!response.ok)
    throw new CheckpointFileError({
      file: url.href,
      reason: `HTTP ${response.status} ${response.statusText}`,
    });
  return response;
};

/**
 * {@link loadQwen25VLFromBytes} from a checkpoint directory served over HTTP: fetches
 * `<base>config.json` and `<base>model.safetensors` (`base` should end in `/`).
 *
 * @since 0.2.0
 * @category loading
 */
export const loadQwen25VLFromUrl = async (
  base: string | URL,
  options: LoadQwen25VLBytesOptions = {},
): Promise<Qwen25VLModel> => {
  const configUrl = new URL("config.json", base);
  const weightsUrl = new URL("model.safetensors", base);
  const configResponse = await fetchOk(configUrl);
  let config: unknown;
  try {
    config = await configResponse.json();
  } catch (cause) {
    throw new CheckpointFileError({ file: configUrl.href, reason: `not JSON (${(cause as Error).message})` });
  }
  const weights = await (await fetchOk(weightsUrl)).arrayBuffer();
  return loadQwen25VLFromBytes(
    { config, weights, source: new URL(".", base).href.replace(/\/$/, "") },
    options,
  );
};
