import { UnsupportedSpecificationError } from "./errors.js";

/**
 * The contract versions this release of apo-rl implements.
 *
 * @since 0.1.0
 * @category contracts
 */
export const SUPPORTED_SPECIFICATION_VERSIONS = ["v1", "v2"] as const;

/**
 * Check that an adapter (objective, verifier, policy) implements a known contract version.
 *
 * @since 0.1.0
 * @category contracts
 */
export const assertSpecificationVersion = (
  contract: string,
  adapter: { specificationVersion?: unknown },
): void => {
  const found = adapter.specificationVersion;
  if (
    typeof found === "string" &&
    (SUPPORTED_SPECIFICATION_VERSIONS as ReadonlyArray<string>).includes(found)
  )
    return;
  throw new UnsupportedSpecificationError({
    contract,
    found: String(found),
    reason: `this release implements ${SUPPORTED_SPECIFICATION_VERSIONS.join(", ")}`,
  });
};
