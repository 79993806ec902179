import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { writeTextAtomically } from "../internal/policy/atomicWrite.js";
import { assertFiniteWeight } from "../internal/safetensors/finiteWeights.js";
import type { Qwen25VLModel } from "../model/Qwen25VLModel.js";
import { writeSafetensors } from "../policy/writeSafetensors.js";
import { SafetensorsFile } from "../safetensors/SafetensorsFile.js";
import { LoraAdapterError } from "./errors.js";
import { createLoraAdapter, type LoraAdapter } from "./LoraAdapter.js";
import { LoraTargetModule } from "./LoraOptions.js";

/**
 * File names of a PEFT LoRA adapter directory.
 *
 * @since 0.1.0
 * @category lora
 */
export const PEFT_ADAPTER_FILES = {
  config: "adapter_config.json",
  weights: "adapter_model.safetensors",
} as const;

/**
 * The PEFT tensor name of one LoRA matrix: `base_model.model.<module>.lora_A.weight`.
 *
 * @since 0.1.0
 * @category lora
 */
export const peftTensorName = (moduleName: string, matrix: "A" | "B"): string =>
  `base_model.model.${moduleName}.lora_${matrix}.weight`;

/** The module of a PEFT tensor name, in canonical naming (`model.language_model.` → `model.`). */
const moduleOfPeftName = (name: string): { module: string; matrix: "A" | "B" } | undefined => {
  const match = /^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$/.exec(name);
  if (match === null) return undefined;
  const module = match[1]!.replace(/^model\.language_model\./, "model.");
  return { module, matrix: match[2] as "A" | "B" };
};

/**
 * Save adapters in the PEFT layout: `adapter_config.json` (`peft_type: "LORA"`, `r`, `lora_alpha`,
 * `lora_dropout`, `target_modules`, …) and `adapter_model.safetensors` (F32, tensors named
 * `base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight`, …). Each file is written
 * atomically.
 *
 * @since 0.1.0
 * @category lora
 */
export const saveLoraAdapter = async (
  adapter: LoraAdapter,
  directory: string,
  options: { readonly baseModelNameOrPath?: string } = {},
): Promise<void> => {
  await mkdir(directory, { recursive: true });
  const tensors = [...adapter.modules.entries()].flatMap(([module, pair]) =>
    (["A", "B"] as const).map((matrix) => {
      const variable = matrix === "A" ? pair.a : pair.b;
      return {
        name: peftTensorName(module, matrix),
        shape: variable.shape,
        values: async () => (await variable.data()) as Float32Array,
      };
    }),
  );
  await writeSafetensors(join(directory, PEFT_ADAPTER_FILES.weights), tensors);
  const config = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: options.baseModelNameOrPath ?? null,
    r: adapter.rank,
    lora_alpha: adapter.alpha,
    lora_dropout: adapter.dropout,
    target_modules: [...adapter.targetModules],
    bias: "none",
    fan_in_fan_out: false,
    init_lora_weights: true,
    inference_mode: true,
    use_rslora: false,
    use_dora: false,
    modules_to_save: null,
    layers_to_transform: null,
  };
  await writeTextAtomically(
    join(directory, PEFT_ADAPTER_FILES.config),
    `${JSON.stringify(config, null, 2)}\n`,
  );
};

/** The parts of `adapter_config.json` this package reads. */
interface PeftConfig {
  readonly rank: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly targetModules: ReadonlyArray<LoraTargetModule>;
}

const readPeftConfig = async (directory: string): Promise<PeftConfig> => {
  const file = join(directory, PEFT_ADAPTER_FILES.config);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new LoraAdapterError({ file, field: "", reason: `cannot read: ${(error as Error).message}` });
  }
  const fail = (field: string, reason: string): never => {
    throw new LoraAdapterError({ file, field, reason });
  };
  if (json["peft_type"] !== undefined && json["peft_type"] !== "LORA") fail("peft_type", `expected "LORA"`);
  const rank = json["r"];
  if (typeof rank !== "number" || !Number.isInteger(rank) || rank <= 0)
    fail("r", "expected a positive integer");
  const alpha = json["lora_alpha"] ?? rank;
  if (typeof alpha !== "number" || !(alpha > 0)) fail("lora_alpha", "expected a positive number");
  const dropout = json["lora_dropout"] ?? 0;
  if (typeof dropout !== "number" || dropout < 0 || dropout >= 1)
    fail("lora_dropout", "expected a number in [0, 1)");
  if (json["use_dora"] === true) fail("use_dora", "DoRA adapters are not supported");
  if (json["use_rslora"] === true) fail("use_rslora", "rank-stabilised scaling is not supported");
  const targets = json["target_modules"];
  if (!Array.isArray(targets) || targets.length === 0)
    fail("target_modules", "expected a list of module names");
  const known = LoraTargetModule.literals as ReadonlyArray<string>;
  (targets as unknown[]).forEach((target, index) => {
    if (typeof target !== "string" || !known.includes(target)) {
      fail(`target_modules[${index}]`, `expected one of ${known.join(", ")}, got ${JSON.stringify(target)}`);
    }
  });
  return {
    rank: rank as number,
    alpha: alpha as number,
    dropout: dropout as number,
    targetModules: targets as LoraTargetModule[],
  };
};

/** Read every A/B matrix of `adapter` from the directory's safetensors file, checking names and shapes. */
const readPeftWeights = async (
  adapter: LoraAdapter,
  directory: string,
): Promise<Map<tf.Variable, Float32Array>> => {
  const file = join(directory, PEFT_ADAPTER_FILES.weights);
  let safetensors: SafetensorsFile;
  try {
    safetensors = await SafetensorsFile.open(file);
  } catch (error) {
    if ((error as { _tag?: string })._tag !== undefined) throw error;
    throw new LoraAdapterError({ file, field: "", reason: `cannot read: ${(error as Error).message}` });
  }
  try {
    const stored = new Map<string, string>();
    for (const name of safetensors.header.entries.keys()) {
      const parsed = moduleOfPeftName(name);
      if (parsed !== undefined) stored.set(`${parsed.module}/${parsed.matrix}`, name);
    }
    const values = new Map<tf.Variable, Float32Array>();
    for (const [module, pair] of adapter.modules) {
      for (const [matrix, variable] of [
        ["A", pair.a],
        ["B", pair.b],
      ] as const) {
        const name = stored.get(`${module}/${matrix}`);
        const expected = peftTensorName(module, matrix);
        if (name === undefined)
          throw new LoraAdapterError({ file, field: expected, reason: "missing tensor" });
        const shape = safetensors.header.entries.get(name)!.shape;
        if (shape.length !== 2 || shape[0] !== variable.shape[0] || shape[1] !== variable.shape[1]) {
          throw new LoraAdapterError({
            file,
            field: name,
            reason: `stored as [${shape.join(", ")}], the model and rank need [${variable.shape.join(", ")}]`,
          });
        }
        const data = await safetensors.read(name);
        assertFiniteWeight(data, safetensors.header.file, name);
        values.set(variable, data);
      }
    }
    return values;
  } finally {
    await safetensors.close();
  }
};

/**
 * Overwrite the adapters' A/B values with those saved in a PEFT directory (same rank and modules;
 * the variables keep their identity, so an optimiser holding them keeps working).
 *
 * @since 0.1.0
 * @category lora
 */
export const readLoraWeightsInto = async (adapter: LoraAdapter, directory: string): Promise<void> => {
  const config = await readPeftConfig(directory);
  const file = join(directory, PEFT_ADAPTER_FILES.config);
  if (config.rank !== adapter.rank) {
    throw new LoraAdapterError({
      file,
      field: "r",
      reason: `saved rank ${config.rank}, the adapter has ${adapter.rank}`,
    });
  }
  const missing = adapter.targetModules.filter((target) => !config.targetModules.includes(target));
  if (missing.length > 0) {
    throw new LoraAdapterError({ file, field: "target_modules", reason: `lacks ${missing.join(", ")}` });
  }
  const values = await readPeftWeights(adapter, directory);
  for (const [variable, data] of values) {
    tf.tidy(() => variable.assign(tf.tensor(data, variable.shape, "float32")));
  }
};

/**
 * Load a PEFT LoRA adapter directory onto `model` (rank, alpha, dropout and target modules from
 * `adapter_config.json`) and install it as `model.linearAdapter`. Accepts tensor names in both
 * namings (`base_model.model.model.layers.…` and `base_model.model.model.language_model.layers.…`).
 *
 * @since 0.1.0
 * @category lora
 */
export const loadLoraAdapter = async (model: Qwen25VLModel, directory: string): Promise<LoraAdapter> => {
  const config = await readPeftConfig(directory);
  const previous = model.linearAdapter;
  const adapter = createLoraAdapter(model, {
    rank: config.rank,
    alpha: config.alpha,
    dropout: config.dropout,
    targetModules: config.targetModules,
  });
  try {
    const values = await readPeftWeights(adapter, directory);
    for (const [variable, data] of values) {
      tf.tidy(() => variable.assign(tf.tensor(data, variable.shape, "float32")));
    }
    return adapter;
  } catch (error) {
    adapter.dispose();
    model.linearAdapter = previous;
    throw error;
  }
};
