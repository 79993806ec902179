import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Effect } from "effect";

/** Where images may live and whether they must exist. */
export interface ImagePolicy {
  readonly baseDirectory: string;
  readonly root: string;
  /** `root` with symbolic links resolved; `undefined` when files are not checked. */
  readonly realRoot: string | undefined;
  readonly allowOutsideRoot: boolean;
  readonly checkImages: boolean;
}

export type ImageResolution =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: string };

const isInside = (root: string, path: string): boolean => {
  const fromRoot = relative(root, path);
  return fromRoot === "" || (!fromRoot.startsWith("..") && !isAbsolute(fromRoot));
};

const URL_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]+:/;

/** The absolute path a reference names: a `file://` URL, or a path relative to `baseDirectory`. */
const toAbsolutePath = (reference: string, baseDirectory: string): ImageResolution => {
  if (reference.trim() === "") return { ok: false, reason: "image reference is empty" };
  if (reference.startsWith("file:")) {
    try {
      return { ok: true, path: fileURLToPath(reference) };
    } catch (error) {
      return {
        ok: false,
        reason: `invalid file URL ${JSON.stringify(reference)}: ${(error as Error).message}`,
      };
    }
  }
  if (URL_SCHEME.test(reference))
    return {
      ok: false,
      reason: `unsupported image reference ${JSON.stringify(reference)}: only file paths and file:// URLs are read`,
    };
  return { ok: true, path: resolve(baseDirectory, reference) };
};

const outsideRoot = (reference: string, path: string, root: string, how = ""): ImageResolution => ({
  ok: false,
  reason: `image ${JSON.stringify(reference)} resolves to ${path}${how}, outside the dataset root ${root} (set allowOutsideRoot to accept it)`,
});

/** Resolve one image reference, checking the root and (optionally) that the file exists. */
export const resolveImage = (reference: string, policy: ImagePolicy): Effect.Effect<ImageResolution> =>
  Effect.gen(function* () {
    const absolute = toAbsolutePath(reference, policy.baseDirectory);
    if (!absolute.ok) return absolute;
    if (!policy.allowOutsideRoot && !isInside(policy.root, absolute.path))
      return outsideRoot(reference, absolute.path, policy.root);
    if (!policy.checkImages) return absolute;
    const found = yield* Effect.promise(() =>
      stat(absolute.path).then(
        (stats) => (stats.isFile() ? "file" : "not a file"),
        () => "missing",
      ),
    );
    if (found !== "file")
      return {
        ok: false,
        reason:
          found === "missing"
            ? `image file not found: ${absolute.path}`
            : `image is not a file: ${absolute.path}`,
      } as const;
    if (policy.allowOutsideRoot || policy.realRoot === undefined) return absolute;
    const real = yield* Effect.promise(() => realpath(absolute.path));
    return isInside(policy.realRoot, real)
      ? absolute
      : outsideRoot(reference, absolute.path, policy.root, ` (through a symbolic link to ${real})`);
  });
