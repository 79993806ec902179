import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { demoCheckpointDirectory } from "../src/demo/demoAssets.js";
import { chooseDemoBackend } from "../src/demo/demoBackend.js";
import { runDemoCli } from "../src/demo/demoCli.js";

const REQUIRED = [
  "heldOutAccuracyBefore",
  "heldOutAccuracyAfter",
  "steps",
  "wallSeconds",
  "objective",
] as const;

describe("apo-train demo", () => {
  it("a 2-step run on the committed SFT checkpoint writes metrics, report and summary.json", async () => {
    const runDir = join(mkdtempSync(join(tmpdir(), "apo-demo-")), "run");
    const printed: string[] = [];
    const logged: string[] = [];
    const status = await runDemoCli(
      [
        ...[
          "--set",
          "train.steps=2",
          "--set",
          "train.promptsPerStep=2",
          "--set",
          "train.maxTokensPerMicroBatch=64",
        ],
        ...["--set", "rollout.groupSize=2", "--set", "data.heldOutSize=4", "--set", "train.evalEvery=1"],
        ...["--run-dir", runDir],
      ],
      { stdout: (text) => printed.push(text), stderr: (text) => logged.push(text) },
    );
    expect(status, logged.join("")).toBe(0);
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as Record<string, unknown>;
    for (const key of REQUIRED) expect(summary, key).toHaveProperty(key);
    expect(summary["objective"]).toBe("apo");
    expect(summary["steps"]).toBe(2);
    for (const key of ["heldOutAccuracyBefore", "heldOutAccuracyAfter", "wallSeconds"] as const) {
      const value = summary[key] as number;
      expect(Number.isFinite(value), key).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
    }
    expect(summary["heldOutAccuracyBefore"] as number).toBeLessThanOrEqual(1);
    const records = readFileSync(join(runDir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { kind: string; loss?: number | null });
    expect(records.filter((record) => record.kind === "train")).toHaveLength(2);
    expect(records.filter((record) => record.kind === "eval")).toHaveLength(3);
    for (const record of records.filter((entry) => entry.kind === "train"))
      expect(Number.isFinite(record.loss)).toBe(true);
    expect(existsSync(join(runDir, "report.html"))).toBe(true);
    expect(printed.join("")).toMatch(
      /held-out accuracy before: [\d.]+%\n {2}held-out accuracy after: {2}[\d.]+%/,
    );
    expect(logged.join("")).toMatch(/demo: backend (wasm|cpu)/);
  });

  it("falls back to cpu, saying why, when the preferred backend cannot run the policy", async () => {
    const logged: string[] = [];
    // tfjs-node-gpu is never installed in this workspace (it needs CUDA 11.2).
    const chosen = await chooseDemoBackend("tfjs-node-gpu", demoCheckpointDirectory(), (line) =>
      logged.push(line),
    );
    expect(chosen).toBe("cpu");
    expect(logged.join("\n")).toMatch(
      /backend tfjs-node-gpu cannot run the demo \(.+\); falling back to cpu/,
    );
  });

  it("rejects an unknown config key with status 2", async () => {
    const errors: string[] = [];
    const status = await runDemoCli(["--set", "train.stepz=3"], {
      stdout: () => {},
      stderr: (text) => errors.push(text),
    });
    expect(status).toBe(2);
    expect(errors.join("")).toMatch(/train\.stepz.*unknown key/);
  });
});
