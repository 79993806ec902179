import type { BuiltinVerifier } from "./VerifierSpec.js";

/**
 * A dataset loader's reference check built from the accuracy verifier that will score the run:
 * the reference is verified against itself, and a verdict of `invalid-reference` (a math answer
 * that does not parse, a count without a number, a choice without a letter) or `too-long` is the
 * row's problem. Returns `undefined` for a usable reference. Fits @apo-rl/datasets' `validateAnswer`
 * hook, so a bad row fails the load naming the row, or is skipped and counted with `skipInvalid`.
 *
 * @example
 * readDataset(path, { validateAnswer: referenceCheck(mathAnswer()) });
 *
 * @since 0.1.0
 * @category references
 */
export const referenceCheck =
  (verifier: BuiltinVerifier): ((reference: string) => string | undefined) =>
  (reference) => {
    const verdict = verifier.verify(reference, reference);
    const details = verdict.details;
    const reason = typeof details.reason === "string" ? details.reason : undefined;
    if (reason === "too-long") return `too-long: ${reference.length} characters`;
    if (reason !== "invalid-reference") return undefined;
    const detail = typeof details.detail === "string" ? details.detail : "";
    return `${verifier.name} cannot read it${detail === "" ? "" : ` (${detail})`}`;
  };
