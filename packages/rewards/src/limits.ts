/** Default bound on response and reference length, in characters. */
export const DEFAULT_MAX_INPUT_LENGTH = 20_000;

/** Default relative tolerance for numeric comparison of constants. */
export const DEFAULT_RELATIVE_TOLERANCE = 1e-6;
