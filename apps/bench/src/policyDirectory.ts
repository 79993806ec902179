import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { listCheckpoints } from "@apo-rl/trainer";
import { BenchSetupError } from "./errors.js";

/**
 * The checkpoint directory a `--policy` path stands for, and a line saying which was picked.
 *
 * @since 0.1.0
 * @category policies
 */
export interface PickedPolicy {
  readonly directory: string;
  readonly note: string;
}

/**
 * Resolve a `--policy` path: a Qwen2.5-VL checkpoint directory (`config.json`) as is; an
 * `apo-train` checkpoint (`step-NNNNNNNN/`, holding `policy/`) its policy; an `apo-train` run
 * directory (holding `checkpoints/`) the policy of its newest complete checkpoint. Anything else
 * fails with `BenchSetupError` saying what was expected.
 *
 * @since 0.1.0
 * @category policies
 */
export const pickPolicyDirectory = async (path: string): Promise<PickedPolicy> => {
  const absolute = resolve(path);
  if (existsSync(join(absolute, "config.json")) && !existsSync(join(absolute, "checkpoints")))
    return { directory: absolute, note: `policy: checkpoint directory ${absolute}` };
  if (existsSync(join(absolute, "policy", "config.json")))
    return {
      directory: join(absolute, "policy"),
      note: `policy: the apo-train checkpoint ${absolute} (its policy/)`,
    };
  if (existsSync(join(absolute, "checkpoints"))) {
    const newest = (await listCheckpoints(join(absolute, "checkpoints"))).at(-1);
    if (newest === undefined)
      throw new BenchSetupError({
        component: "policy",
        reason: `${absolute} is an apo-train run directory without a complete checkpoint`,
      });
    if (!existsSync(join(newest.path, "policy", "config.json")))
      throw new BenchSetupError({
        component: "policy",
        reason: `${newest.path}/policy has no config.json (a LoRA adapter? evaluate a merged checkpoint)`,
      });
    return {
      directory: join(newest.path, "policy"),
      note: `policy: run directory ${absolute}, its latest checkpoint ${newest.path} (step ${newest.step})`,
    };
  }
  throw new BenchSetupError({
    component: "policy",
    reason: `${absolute} has no config.json: it is neither a checkpoint directory, an apo-train checkpoint (policy/) nor an apo-train run directory (checkpoints/)`,
  });
};
