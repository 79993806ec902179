import { decodeSync } from "@apo-rl/core";
import { Schema } from "effect";
import { answerTagContent } from "./internal/extract.js";
import { tooLong } from "./internal/inputLimit.js";
import { DEFAULT_MAX_INPUT_LENGTH } from "./limits.js";
import type { BuiltinVerifier } from "./VerifierSpec.js";

/**
 * Options of {@link groundingIou}.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const GroundingIouOptions = Schema.Struct({
  /** With a threshold, reward is 1 when IoU ≥ threshold, else 0; without, reward = IoU. `correct` is IoU ≥ threshold (default 0.5). */
  threshold: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  /** `"iou"` (default): reward = IoU; `"threshold"`: reward = 1 if IoU ≥ threshold. */
  mode: Schema.optionalKey(Schema.Literals(["iou", "threshold"])),
  maxInputLength: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
});

/**
 * @since 0.1.0
 * @category verifiers
 */
export type GroundingIouOptions = typeof GroundingIouOptions.Type;

/**
 * An axis-aligned box `[x1, y1, x2, y2]` with `x1 ≤ x2`, `y1 ≤ y2`.
 *
 * @since 0.1.0
 * @category verifiers
 */
export type Box = readonly [number, number, number, number];

const decodeOptions = decodeSync(GroundingIouOptions, "groundingIou options");

const numberPattern = "-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?";
/** Qwen2-VL style `(x1,y1),(x2,y2)`. */
const pointPairPattern = new RegExp(
  `\\(\\s*(${numberPattern})\\s*,\\s*(${numberPattern})\\s*\\)\\s{0,8},?\\s{0,8}\\(\\s*(${numberPattern})\\s*,\\s*(${numberPattern})\\s*\\)`,
  "g",
);
/** `{"x1": 1, "y1": 2, "x2": 3, "y2": 4}` (keys in this order). */
const keyedPattern = new RegExp(
  ["x1", "y1", "x2", "y2"].map((key) => `"${key}"\\s*:\\s*(${numberPattern})`).join("\\s*,\\s*"),
  "g",
);
const boxPattern = new RegExp(
  `\\[\\s*(${numberPattern})\\s*,\\s*(${numberPattern})\\s*,\\s*(${numberPattern})\\s*,\\s*(${numberPattern})\\s*\\]`,
  "g",
);

/**
 * The last box in a text: `[x1, y1, x2, y2]` (JSON such as `{"bbox_2d": [1, 2, 3, 4]}` included),
 * `(x1,y1),(x2,y2)`, or `{"x1": …, "y1": …, "x2": …, "y2": …}`; `undefined` when there is none.
 * Boxes with `x2 < x1` or `y2 < y1` are rejected.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const parseBox = (text: string): Box | undefined => {
  let last: { box: Box; at: number } | undefined;
  for (const pattern of [boxPattern, pointPairPattern, keyedPattern]) {
    for (const match of text.matchAll(pattern)) {
      const box = [Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4])] as const;
      const valid = box.every(Number.isFinite) && box[2] >= box[0] && box[3] >= box[1];
      if (valid && (last === undefined || match.index > last.at)) last = { box, at: match.index };
    }
  }
  return last?.box;
};

/**
 * Intersection over union of two boxes (0 when both are empty).
 *
 * @since 0.1.0
 * @category verifiers
 */
export const intersectionOverUnion = (a: Box, b: Box): number => {
  const width = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const height = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const intersection = width * height;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection;
  return union > 0 ? intersection / union : 0;
};

/**
 * Grounding verifier: IoU between the predicted box (in `<answer>` if present) and the reference box.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const groundingIou = (options: GroundingIouOptions = {}): BuiltinVerifier => {
  const decoded = decodeOptions(options);
  const threshold = decoded.threshold ?? 0.5;
  const mode = decoded.mode ?? "iou";
  const maxInputLength = decoded.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH;
  return {
    specificationVersion: "v1",
    name: "grounding-iou",
    spec: { kind: "grounding-iou", options: decoded },
    verify: (response, reference) => {
      const limited = tooLong(response, reference, maxInputLength);
      if (limited !== undefined) return limited;
      const expected = parseBox(reference);
      if (expected === undefined)
        return { reward: 0, correct: false, details: { reason: "invalid-reference" } };
      const predicted = parseBox(answerTagContent(response) ?? response);
      if (predicted === undefined) return { reward: 0, correct: false, details: { reason: "no-answer" } };
      const iou = intersectionOverUnion(expected, predicted);
      const correct = iou >= threshold;
      return {
        reward: mode === "iou" ? iou : correct ? 1 : 0,
        correct,
        details: { reason: correct ? "match" : "mismatch", iou, box: predicted },
      };
    },
  };
};
