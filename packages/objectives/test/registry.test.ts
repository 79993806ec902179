import { InvalidInputError } from "@apo-rl/core";
import { Effect, Exit, Schema } from "effect";
import { describe, expect, it } from "vitest";
import {
  ApoOptions,
  advantageEstimatorRegistry,
  createObjective,
  createObjectiveEffect,
  DapoOptions,
  DrGrpoOptions,
  GrpoDOptions,
  GrpoOptions,
  GspoOptions,
  grpo,
  gspoMetricNames,
  makeObjectiveRegistry,
  mechanismTelemetryNames,
  ObjectiveRegistrationError,
  Objectives,
  objectiveMetricNames,
  objectiveRegistry,
  policyLossRegistry,
  registerObjective,
  UnknownObjectiveError,
} from "../src/index.js";

const caught = <E>(kind: new (...args: never[]) => E, run: () => unknown): E => {
  try {
    run();
  } catch (error) {
    if (error instanceof kind) return error;
    throw error;
  }
  throw new Error(`expected a ${kind.name}`);
};

const decode = <S extends Schema.Codec<unknown, unknown, never, never>>(schema: S, input: unknown) =>
  Schema.decodeUnknownSync(schema)(input) as S["Type"];

describe("option schemas", () => {
  it("default to the reference", () => {
    expect(decode(GrpoOptions, {})).toEqual({
      advantageScale: "group",
      eps: 1e-9,
      clipLow: 0.2,
      clipHigh: 0.2,
      aggregation: "token-mean",
      klEstimator: "k3",
      klPlacement: "loss",
      beta: 1e-3,
      // Off by default: no entropy bonus, every token gets gradient.
      entropyCoefficient: 0,
      topEntropyFraction: 1,
    });
    expect(decode(ApoOptions, {})).toMatchObject({
      dads: true,
      dadsForm: "reference",
      stcr: true,
      stcrBase: 1.00001,
      beta: 1e-3,
      eps: 1e-9,
      clipLow: 0.2,
      clipHigh: 0.2,
      aggregation: "token-mean",
      klEstimator: "k3",
      klPlacement: "loss",
    });
    expect(decode(DrGrpoOptions, {})).toMatchObject({
      advantageScale: "none",
      aggregation: "seq-mean-token-sum-norm",
    });
    expect(decode(DapoOptions, {})).toMatchObject({ clipLow: 0.2, clipHigh: 0.28, beta: 0 });
    expect(decode(GrpoDOptions, {})).toMatchObject({
      klSchedule: { kind: "linear", betaMin: 0, betaMax: 1e-3, warmupFraction: 1 },
    });
    expect(decode(GspoOptions, {})).toEqual({
      clipLow: 3e-4,
      clipHigh: 4e-4,
      eps: 1e-9,
      advantageScale: "group",
      beta: 0,
    });
  });

  it.each([
    ["grpo", { clipLow: 1.5 }, "clipLow"],
    ["grpo", { eps: -1 }, "eps"],
    ["grpo", { aggregation: "sum" }, "aggregation"],
    ["grpo", { klEstimator: "k4" }, "klEstimator"],
    ["grpo", { klPlacement: "advantage" }, "klPlacement"],
    ["grpo", { dualClip: 0.5 }, "dualClip"],
    ["grpo", { maxLength: 1.5 }, "maxLength"],
    ["grpo", { klSchedule: { kind: "cosine", warmupFraction: -0.1 } }, "klSchedule.warmupFraction"],
    ["grpo", { overlong: { maxLength: 100, buffer: 200 } }, "overlong.buffer"],
    ["grpo", { dads: true }, "dads"],
    ["apo", { stcrBase: 1 }, "stcrBase"],
    ["apo", { dadsForm: "linear" }, "dadsForm"],
    ["apo", { stcr: "yes" }, "stcr"],
    ["grpoD", { beta: 0.1 }, "beta"],
    ["dapo", { clipHigh: -0.28 }, "clipHigh"],
    ["gspo", { clipLow: 2 }, "clipLow"],
  ])("%s rejects %j naming %s", (name, options, field) => {
    const error = caught(InvalidInputError, () => createObjective(name, options));
    expect(error.subject).toBe(`${name} options`);
    expect(error.field).toBe(field);
    expect(error.message).toContain(`at ${field}`);
  });

  it("factories validate the same way", () => {
    expect(caught(InvalidInputError, () => grpo({ clipHigh: Number.NaN })).field).toBe("clipHigh");
  });
});

describe("objective registry", () => {
  it("holds the built-in objectives and the contributed gspo", () => {
    expect(objectiveRegistry.names()).toEqual(["grpo", "drGrpo", "dapo", "grpoD", "apo", "gspo"]);
    expect(advantageEstimatorRegistry.names()).toEqual(expect.arrayContaining(["grpo"]));
    expect(policyLossRegistry.names()).toEqual(expect.arrayContaining(["ppoClip"]));
    for (const name of objectiveRegistry.names()) {
      const objective = createObjective(name);
      expect(objective.specificationVersion).toBe("v2");
      expect(objective.name).toBe(name);
    }
    // The built-in objectives report the contract's names and the DADS/STCR telemetry; gspo its own.
    expect(createObjective("apo").metricNames).toEqual([...objectiveMetricNames, ...mechanismTelemetryNames]);
    expect(createObjective("gspo").metricNames).toEqual(gspoMetricNames);
  });

  it("passes decoded options with defaults to the factory", () => {
    const registry = makeObjectiveRegistry();
    const seen: Array<unknown> = [];
    registry.register(
      "probe",
      (options) => {
        seen.push(options);
        return grpo();
      },
      Schema.Struct({ scale: Schema.optionalKey(Schema.Finite) }),
    );
    registry.create("probe", { scale: 2 });
    expect(seen).toEqual([{ scale: 2 }]);
    expect(caught(InvalidInputError, () => registry.create("probe", { scale: "2" })).field).toBe("scale");
  });

  it("names the unknown objective and lists the known ones", () => {
    const error = caught(UnknownObjectiveError, () => createObjective("ppo"));
    expect(error.name).toBe("ppo");
    expect(error.known).toContain("apo");
    expect(error.message).toContain("ppo");
  });

  it("refuses a taken name unless replace is asked for", () => {
    const registry = makeObjectiveRegistry();
    registry.register("mine", () => grpo(), GrpoOptions);
    expect(() => registry.register("mine", () => grpo(), GrpoOptions)).toThrow(ObjectiveRegistrationError);
    registry.register("mine", () => grpo({ beta: 0 }), GrpoOptions, { replace: true });
    expect(() => registry.register("has space", () => grpo(), GrpoOptions)).toThrow(
      ObjectiveRegistrationError,
    );
    expect(() => registerObjective("apo", () => grpo(), GrpoOptions)).toThrow(ObjectiveRegistrationError);
  });

  it("rejects a factory that does not implement a known contract version", () => {
    const registry = makeObjectiveRegistry();
    registry.register("future", () => ({ ...grpo(), specificationVersion: "v3" }) as never, GrpoOptions);
    expect(() => registry.create("future")).toThrow(/specificationVersion "v3"/);
  });

  it("has an Effect entry that fails with typed errors", () => {
    const built = Effect.runSync(createObjectiveEffect("apo", { stcrBase: 1.001 }));
    expect(built.name).toBe("apo");
    const unknown = Effect.runSyncExit(createObjectiveEffect("nope"));
    expect(Exit.isFailure(unknown)).toBe(true);
    const flipped = Effect.runSync(Effect.flip(createObjectiveEffect("nope")));
    expect(flipped._tag).toBe("UnknownObjectiveError");
    const invalid = Effect.runSync(Effect.flip(createObjectiveEffect("apo", { stcrBase: 0.5 })));
    expect(invalid._tag).toBe("InvalidInputError");
    expect((invalid as InvalidInputError).field).toBe("stcrBase");
  });
});

describe("Objectives service", () => {
  it("builds objectives from the shared registry through its layer", () => {
    const program = Effect.gen(function* () {
      const objectives = yield* Objectives;
      const names = yield* objectives.names;
      const built = yield* objectives.create("grpoD", { klSchedule: { kind: "cosine" } });
      const failure = yield* Effect.flip(objectives.create("apo", { dadsForm: "linear" }));
      return { names, built, failure };
    });
    const { names, built, failure } = Effect.runSync(Effect.provide(program, Objectives.layer));
    expect(names).toContain("gspo");
    expect(built.name).toBe("grpoD");
    expect(failure._tag).toBe("InvalidInputError");
  });

  it("registers into the registry it serves and reports a taken name as a typed failure", () => {
    const registry = makeObjectiveRegistry();
    const program = Effect.gen(function* () {
      const objectives = yield* Objectives;
      yield* objectives.register("mine", () => grpo(), GrpoOptions);
      const taken = yield* Effect.flip(objectives.register("mine", () => grpo(), GrpoOptions));
      return { taken, names: yield* objectives.names };
    });
    const { taken, names } = Effect.runSync(Effect.provide(program, Objectives.layerFrom(registry)));
    expect(names).toEqual(["mine"]);
    expect(taken._tag).toBe("ObjectiveRegistrationError");
  });
});
