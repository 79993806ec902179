import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const loader = "libvulkan.so.1";

const inLibraryPath = (): boolean =>
  (process.env.LD_LIBRARY_PATH ?? "")
    .split(":")
    .filter((directory) => directory !== "")
    .some((directory) => existsSync(join(directory, loader)));

const inLinkerCache = (): boolean | undefined => {
  try {
    return execFileSync("ldconfig", ["-p"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5_000,
    }).includes(loader);
  } catch {
    return undefined;
  }
};

/**
 * On Linux, Dawn reaches the GPU only through the Vulkan loader. When neither the dynamic linker's
 * cache nor `LD_LIBRARY_PATH` has `libvulkan.so.1`, no adapter can exist, so the WebGPU probe is
 * skipped (Dawn would print a warning and find nothing). Returns the reason, or `undefined` when a
 * loader may be present or the check cannot tell (then Dawn is asked).
 */
export const missingVulkanLoader = (): string | undefined => {
  if (process.platform !== "linux") return undefined;
  if (inLibraryPath() || inLinkerCache() !== false) return undefined;
  return `no WebGPU adapter possible: the Vulkan loader (${loader}) is not installed (apt install libvulkan1, plus the GPU's Vulkan driver)`;
};
