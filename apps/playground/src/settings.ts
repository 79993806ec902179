import { decodeSync } from "@apo-rl/core";
import { objectiveRegistry } from "@apo-rl/objectives";
import { TrainerConfig } from "@apo-rl/trainer/portable";
import { parse } from "yaml";
import demoYaml from "../../trainer/assets/demo/demo.yaml?raw";

/** The backends the page can ask for: `auto` is webgpu when an adapter exists, else wasm. */
export const BACKEND_CHOICES = ["auto", "webgpu", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/**
 * Every control of the page; each is also a URL parameter of the same name. Objective options left
 * empty keep the objective's defaults (exactly what `apo-train demo` runs).
 */
export interface PlaygroundSettings {
  readonly objective: string;
  readonly beta: number | undefined;
  readonly stcrBase: number | undefined;
  readonly dads: boolean | undefined;
  readonly stcr: boolean | undefined;
  readonly clip: number | undefined;
  readonly steps: number;
  readonly groupSize: number;
  readonly promptsPerStep: number;
  readonly lr: number;
  readonly seed: number;
  readonly evalEvery: number;
  readonly heldOutSize: number;
  readonly backend: BackendChoice;
  readonly autostart: boolean;
}

/** The demo's config (apps/trainer/assets/demo/demo.yaml, the file `apo-train demo` reads). */
export const demoConfigInput = (): Record<string, Record<string, unknown>> =>
  parse(demoYaml) as Record<string, Record<string, unknown>>;

const demo = demoConfigInput();
const section = (name: string) => demo[name] ?? {};

export const DEFAULT_SETTINGS: PlaygroundSettings = {
  objective: String(section("objective")["name"] ?? "apo"),
  beta: undefined,
  stcrBase: undefined,
  dads: undefined,
  stcr: undefined,
  clip: undefined,
  steps: Number(section("train")["steps"]),
  groupSize: Number(section("rollout")["groupSize"]),
  promptsPerStep: Number(section("train")["promptsPerStep"]),
  lr: Number(section("optimizer")["lr"]),
  seed: Number(section("train")["seed"]),
  evalEvery: Number(section("train")["evalEvery"]),
  heldOutSize: Number(section("data")["heldOutSize"]),
  backend: "auto",
  autostart: false,
};

const NUMBER_KEYS = [
  "beta",
  "stcrBase",
  "clip",
  "steps",
  "groupSize",
  "promptsPerStep",
  "lr",
  "seed",
  "evalEvery",
  "heldOutSize",
] as const;
const BOOLEAN_KEYS = ["dads", "stcr", "autostart"] as const;

/** A bad URL parameter or control value, named. */
export class SettingsError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${key}: ${reason}`);
  }
}

const parseBoolean = (key: string, value: string): boolean => {
  if (["1", "true", "on", "yes"].includes(value)) return true;
  if (["0", "false", "off", "no"].includes(value)) return false;
  throw new SettingsError(key, `expected 1/0 or true/false, got ${JSON.stringify(value)}`);
};

/** Settings from `key=value` pairs (URL parameters or form fields) over the defaults. */
export const parseSettings = (values: Iterable<readonly [string, string]>): PlaygroundSettings => {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, raw] of values) {
    const value = raw.trim();
    if (key === "objective") {
      if (!objectiveRegistry.names().includes(value))
        throw new SettingsError(key, `expected one of ${objectiveRegistry.names().join(", ")}`);
      settings[key] = value;
    } else if (key === "backend") {
      if (!(BACKEND_CHOICES as ReadonlyArray<string>).includes(value))
        throw new SettingsError(key, `expected one of ${BACKEND_CHOICES.join(", ")}`);
      settings[key] = value;
    } else if ((NUMBER_KEYS as ReadonlyArray<string>).includes(key)) {
      if (value === "") continue;
      const number = Number(value);
      if (!Number.isFinite(number))
        throw new SettingsError(key, `expected a number, got ${JSON.stringify(raw)}`);
      settings[key] = number;
    } else if ((BOOLEAN_KEYS as ReadonlyArray<string>).includes(key)) {
      if (value === "") continue;
      settings[key] = parseBoolean(key, value);
    } else throw new SettingsError(key, "unknown parameter");
  }
  return settings as unknown as PlaygroundSettings;
};

/** The objective options the settings give (only those set: the rest keep the objective's defaults). */
export const objectiveOptions = (settings: PlaygroundSettings): Record<string, unknown> => ({
  ...(settings.beta === undefined ? {} : { beta: settings.beta }),
  ...(settings.clip === undefined ? {} : { clipLow: settings.clip, clipHigh: settings.clip }),
  ...(settings.dads === undefined ? {} : { dads: settings.dads }),
  ...(settings.stcr === undefined ? {} : { stcr: settings.stcr }),
  ...(settings.stcrBase === undefined ? {} : { stcrBase: settings.stcrBase }),
});

/**
 * The trainer config of a run: demo.yaml with the settings applied, decoded by the trainer's own
 * schema (its defaults, its validation), so the page trains what `apo-train` would with the same
 * `--set` overrides.
 */
export const trainerConfigOf = (settings: PlaygroundSettings): TrainerConfig => {
  const input = demoConfigInput();
  return decodeSync(
    TrainerConfig,
    "playground settings",
  )({
    ...input,
    objective: { name: settings.objective, options: objectiveOptions(settings) },
    rollout: { ...input["rollout"], groupSize: settings.groupSize },
    optimizer: { ...input["optimizer"], lr: settings.lr },
    data: { ...input["data"], heldOutSize: settings.heldOutSize },
    train: {
      ...input["train"],
      steps: settings.steps,
      promptsPerStep: settings.promptsPerStep,
      seed: settings.seed,
      evalEvery: settings.evalEvery,
    },
    backend: settings.backend === "auto" ? "auto" : settings.backend,
  });
};

/** The URL parameters that reproduce `settings` (only those that differ from the defaults). */
export const settingsQuery = (settings: PlaygroundSettings): string => {
  const parameters = new URLSearchParams();
  for (const [key, value] of Object.entries(settings))
    if (value !== undefined && value !== DEFAULT_SETTINGS[key as keyof PlaygroundSettings])
      parameters.set(key, typeof value === "boolean" ? (value ? "1" : "0") : String(value));
  return parameters.toString();
};
