import { existsSync, readFileSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

/** The version in `node_modules/<name>/package.json` of `directory` or its nearest ancestor that has one. */
const installedVersion = (directory: string, name: string): string | undefined => {
  for (let current = directory; ; current = dirname(current)) {
    const manifest = join(current, "node_modules", name, "package.json");
    if (existsSync(manifest))
      return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
    if (dirname(current) === current) return undefined;
  }
};

/**
 * The installed version of `name`, as Node would find it from this package, else from
 * @apo-rl/tensor (which owns the tfjs backends).
 */
const packageVersion = (name: string): string => {
  const directories = [dirname(fileURLToPath(import.meta.url))];
  try {
    directories.push(dirname(fileURLToPath(import.meta.resolve("@apo-rl/tensor/package.json"))));
  } catch {}
  for (const directory of directories) {
    const version = installedVersion(directory, name);
    if (version !== undefined) return version;
  }
  return "not installed";
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
