import { readFileSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";

/**
 * What a benchmark ran on, recorded with every result.
 *
 * @since 0.1.0
 * @category results
 */
export interface MachineInfo {
  readonly platform: string;
  readonly arch: string;
  readonly osRelease: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly packages: Readonly<Record<string, string>>;
}

const packageVersion = (name: string): string => {
  try {
    const manifestUrl = import.meta.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(new URL(manifestUrl), "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
};

/**
 * Describe this machine and the versions of the packages a benchmark depends on.
 *
 * @since 0.1.0
 * @category results
 */
export const machineInfo = (): MachineInfo => {
  const processors = cpus();
  const names = [
    "@apo-rl/core",
    "@apo-rl/tensor",
    "@tensorflow/tfjs-core",
    "@tensorflow/tfjs-backend-wasm",
    "effect",
  ];
  return {
    platform: platform(),
    arch: arch(),
    osRelease: release(),
    cpuModel: processors[0]?.model.trim() ?? "unknown",
    cpuCount: processors.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    packages: Object.fromEntries(names.map((name) => [name, packageVersion(name)])),
  };
};
