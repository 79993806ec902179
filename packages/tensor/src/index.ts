/**
 * @since 0.1.0
 */
export const packageName = "@apo-rl/tensor";
