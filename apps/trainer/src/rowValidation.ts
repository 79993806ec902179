import type { ChatMessage, ImageInput } from "@apo-rl/core";
import { type DatasetItem, InvalidDatasetError, type LoadedDataset, readImageHeader } from "@apo-rl/datasets";
import { loadImage } from "@apo-rl/qwen-vl";

/**
 * A dataset row left out of a run, with where it came from and why.
 *
 * @since 0.1.0
 * @category data
 */
export interface SkippedRow {
  /** The dataset file. */
  readonly file: string;
  /** 1-based row (line of a JSONL file, element of a View-R1 array). */
  readonly row: number;
  readonly reason: string;
}

/**
 * How a prompt is measured against the model: its tokens once the images are expanded, and each
 * image's `<|image_pad|>` count after `smart_resize` (a thrown error's message is the reason the
 * image cannot be used, e.g. an aspect ratio over 200).
 *
 * @since 0.1.0
 * @category data
 */
export interface PromptMeasure {
  /** Tokens of the rendered prompt with one placeholder per image (the placeholders not counted). */
  readonly textTokens: (messages: ReadonlyArray<ChatMessage>, imageCount: number) => number;
  readonly imageTokens: (height: number, width: number) => number;
}

/**
 * The limits every row is checked against when a dataset is loaded.
 *
 * @since 0.1.0
 * @category data
 */
export interface RowLimits {
  /** Most tokens of a prompt, images expanded; `undefined` = not checked. */
  readonly maxPromptTokens: number | undefined;
  readonly maxImagesPerPrompt: number;
  /** Most pixels of a source image (width · height in its header). */
  readonly maxImagePixels: number;
  /** Token counting; `undefined` when the policy is not a Qwen2.5-VL checkpoint. */
  readonly measure: PromptMeasure | undefined;
}

const IMAGE_CONCURRENCY = 16;

/** Every problem of one row: image count, each image's header and size, the prompt's length. */
const rowProblems = async (item: DatasetItem, limits: RowLimits): Promise<ReadonlyArray<string>> => {
  const problems: Array<string> = [];
  if (item.images.length > limits.maxImagesPerPrompt)
    problems.push(
      `${item.images.length} images, more than data.maxImagesPerPrompt = ${limits.maxImagesPerPrompt}`,
    );
  let imageTokens = 0;
  for (const [index, image] of item.images.entries()) {
    if (typeof image !== "string") continue;
    const header = await readImageHeader(image);
    const name = `image ${index + 1} (${image})`;
    if (!header.ok) {
      problems.push(`${name}: ${header.reason}`);
      continue;
    }
    const pixels = header.width * header.height;
    if (pixels > limits.maxImagePixels) {
      problems.push(
        `${name}: its header claims ${header.width}×${header.height} = ${pixels} pixels, more than data.maxImagePixels = ${limits.maxImagePixels}`,
      );
      continue;
    }
    if (limits.measure === undefined) continue;
    try {
      imageTokens += limits.measure.imageTokens(header.height, header.width);
    } catch (cause) {
      problems.push(`${name}: ${(cause as Error).message}`);
    }
  }
  if (limits.measure !== undefined && limits.maxPromptTokens !== undefined && problems.length === 0) {
    const tokens = limits.measure.textTokens(item.messages, item.images.length) + imageTokens;
    if (tokens > limits.maxPromptTokens)
      problems.push(
        `the prompt has ${tokens} tokens (${imageTokens} of them image tokens), more than data.maxPromptTokens = ${limits.maxPromptTokens}`,
      );
  }
  return problems;
};

/**
 * Check every row of a loaded dataset against `limits` (image headers, pixel budgets, image count,
 * prompt tokens). Bad rows fail the load with `InvalidDatasetError` naming each row and reason, or
 * with `skipInvalid` are dropped: the returned dataset counts them in `skippedRows` and lists them
 * (with the rows the reader itself dropped) in `skippedDetails`.
 *
 * @since 0.1.0
 * @category data
 */
export const validateRows = async (
  loaded: LoadedDataset,
  limits: RowLimits,
  skipInvalid: boolean,
): Promise<LoadedDataset & { readonly skippedDetails: ReadonlyArray<SkippedRow> }> => {
  const results: Array<ReadonlyArray<string>> = new Array(loaded.items.length);
  let next = 0;
  const worker = async () => {
    while (next < loaded.items.length) {
      const index = next++;
      results[index] = await rowProblems(loaded.items[index]!, limits);
    }
  };
  await Promise.all(Array.from({ length: IMAGE_CONCURRENCY }, worker));
  const problems = loaded.items.flatMap((item, index) =>
    results[index]!.map((reason) => ({ row: item.row, field: "", reason })),
  );
  const previous = loaded.skipped.map((problem) => ({
    file: loaded.path,
    row: problem.row,
    reason: problem.field === "" ? problem.reason : `${problem.field}: ${problem.reason}`,
  }));
  if (problems.length === 0) return { ...loaded, skippedDetails: previous };
  const badRows = new Set(problems.map((problem) => problem.row));
  const items = loaded.items.filter((item) => !badRows.has(item.row));
  const summary = `${badRows.size} of ${loaded.items.length + loaded.skippedRows} rows cannot be used by this model`;
  if (!skipInvalid)
    throw new InvalidDatasetError({
      path: loaded.path,
      reason: `${summary} (--skip-invalid drops them)`,
      problems,
    });
  if (items.length === 0)
    throw new InvalidDatasetError({
      path: loaded.path,
      reason: `every row is invalid (${summary})`,
      problems,
    });
  return {
    ...loaded,
    items,
    skipped: [...loaded.skipped, ...problems],
    skippedRows: loaded.skippedRows + badRows.size,
    skippedDetails: [
      ...previous,
      ...problems.map((problem) => ({ file: loaded.path, row: problem.row, reason: problem.reason })),
    ],
  };
};

/**
 * Fully decode every image of a prompt (what drawing it for a step does); the reason it fails, or
 * `undefined` when every image decodes.
 *
 * @since 0.1.0
 * @category data
 */
export const decodeFailure = (images: ReadonlyArray<ImageInput>): string | undefined => {
  for (const [index, image] of images.entries()) {
    try {
      loadImage(image, { index });
    } catch (cause) {
      return `image ${index + 1}${typeof image === "string" ? ` (${image})` : ""} cannot be decoded: ${(cause as Error).message}`;
    }
  }
  return undefined;
};
