/**
 * Default bound on response and reference length, in characters.
 *
 * @since 0.1.0
 * @category limits
 */
export const DEFAULT_MAX_INPUT_LENGTH = 20_000;

/**
 * Default relative tolerance for numeric comparison of constants.
 *
 * @since 0.1.0
 * @category limits
 */
export const DEFAULT_RELATIVE_TOLERANCE = 1e-6;
