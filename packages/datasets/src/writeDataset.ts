import { mkdir, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { ImageInput } from "@apo-rl/core";
import { Effect } from "effect";
import type { DatasetItem } from "./DatasetItem.js";
import { DatasetFileError } from "./errors.js";
import { withImages } from "./internal/messageImages.js";
import { encodeRgbPng } from "./internal/png.js";
import type { SyntheticTask } from "./SyntheticCountingTask.js";

/**
 * The absolute paths `writeSyntheticTask` wrote: the two JSONL files and the images directory.
 *
 * @since 0.1.0
 * @category writing
 */
export interface SyntheticTaskFiles {
  readonly train: string;
  readonly heldOut: string;
  readonly images: string;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

const startsWith = (bytes: Uint8Array, signature: ReadonlyArray<number>): boolean =>
  signature.every((byte, index) => bytes[index] === byte);

/** File-name-safe version of an id. */
const safeName = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, "_");

/** The bytes and file extension to store an in-memory image with. */
const encodedImage = (
  image: Exclude<ImageInput, string>,
): { bytes: Uint8Array; extension: string } | string => {
  if (image instanceof Uint8Array) {
    if (startsWith(image, PNG_SIGNATURE)) return { bytes: image, extension: "png" };
    if (startsWith(image, JPEG_SIGNATURE)) return { bytes: image, extension: "jpg" };
    return "image bytes are neither PNG nor JPEG";
  }
  return { bytes: encodeRgbPng(image.width, image.height, image.data), extension: "png" };
};

/** A reference to `path` as written in a JSONL file in `directory`: relative when inside it. */
const referenceTo = (path: string, directory: string): string => {
  const fromDirectory = relative(directory, path);
  return fromDirectory.startsWith("..") || isAbsolute(fromDirectory)
    ? path
    : fromDirectory.split(sep).join("/");
};

/**
 * Write items as a JSONL dataset that {@link readJsonl} reads back: one `{ id, messages, answer,
 * category? }` line per item, image parts referring to files relative to the JSONL file. Images held
 * in memory (PNG/JPEG bytes, raw RGB) are written to `images/<id>.png` (`<id>-<n>.png` when an item
 * has several) next to it; images given as paths are referred to where they are.
 */
export const writeJsonlDatasetEffect = (
  path: string,
  items: ReadonlyArray<DatasetItem>,
): Effect.Effect<string, DatasetFileError> =>
  Effect.gen(function* () {
    const target = resolve(path);
    const directory = dirname(target);
    const imageDirectory = join(directory, "images");
    const files: Array<{ readonly path: string; readonly bytes: Uint8Array }> = [];
    const lines: Array<string> = [];
    for (const item of items) {
      const references: Array<string> = [];
      for (const [index, image] of item.images.entries()) {
        if (typeof image === "string") {
          references.push(referenceTo(resolve(image), directory));
          continue;
        }
        const encoded = encodedImage(image);
        if (typeof encoded === "string")
          return yield* new DatasetFileError({
            path: target,
            reason: `item ${item.id} image ${index}: ${encoded}`,
          });
        const suffix = item.images.length === 1 ? "" : `-${index + 1}`;
        const file = join(imageDirectory, `${safeName(item.id)}${suffix}.${encoded.extension}`);
        files.push({ path: file, bytes: encoded.bytes });
        references.push(referenceTo(file, directory));
      }
      const row = {
        id: item.id,
        messages: withImages(item.messages, references),
        answer: item.answer,
        ...(item.category === undefined ? {} : { category: item.category }),
      };
      lines.push(JSON.stringify(row));
    }
    yield* Effect.tryPromise({
      try: async () => {
        await mkdir(directory, { recursive: true });
        if (files.length > 0) await mkdir(imageDirectory, { recursive: true });
        for (const file of files) await writeFile(file.path, file.bytes);
        await writeFile(target, lines.map((line) => `${line}\n`).join(""));
      },
      catch: (error) =>
        new DatasetFileError({ path: target, reason: `cannot be written: ${(error as Error).message}` }),
    });
    return target;
  });

/**
 * Write a synthetic task to `directory` as `train.jsonl`, `held-out.jsonl` and `images/*.png`.
 */
export const writeSyntheticTaskEffect = (
  directory: string,
  task: SyntheticTask,
): Effect.Effect<SyntheticTaskFiles, DatasetFileError> =>
  Effect.gen(function* () {
    const train = yield* writeJsonlDatasetEffect(join(directory, "train.jsonl"), task.train);
    const heldOut = yield* writeJsonlDatasetEffect(join(directory, "held-out.jsonl"), task.heldOut);
    return { train, heldOut, images: join(resolve(directory), "images") };
  });
