import { InvalidInputError } from "@apo-rl/core";

/** An {@link InvalidInputError} with one problem: `field` of `subject` is wrong because of `reason`. */
export const invalid = (subject: string, field: string, reason: string): InvalidInputError =>
  new InvalidInputError({ subject, field, reason, problems: [{ field, reason }] });
