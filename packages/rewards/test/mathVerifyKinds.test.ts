import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type EquivalenceOptions, explainEquivalence } from "../src/index.js";

/**
 * A second, independent set of Math-Verify verdicts (fixtures/math-verify-kinds.json), grouped by
 * the kinds of issue #16: several boxes, `\approx`, equations whose right side is the answer, `\$`,
 * `\text{(C)}`, spelled units and percent words, number formats, set operations, lists of answers,
 * and the rest of Math-Verify's tests that the public fixture does not hold. None of these cases is
 * in math-cases.json. Unflagged cases must agree at least 95 %.
 */
interface KindCase {
  readonly id: string;
  readonly kind: string;
  readonly gold: string;
  readonly pred: string;
  readonly expected: boolean;
  readonly source: string;
  readonly extraction?: ReadonlyArray<"latex" | "expr">;
  readonly floatRounding?: number;
  readonly flag?: "policy" | "limitation" | "artifact";
  readonly note?: string;
}

const fixture: { readonly cases: ReadonlyArray<KindCase> } = JSON.parse(
  readFileSync(new URL("./fixtures/math-verify-kinds.json", import.meta.url), "utf8"),
);
const cases = fixture.cases;

/** Flagged cases where we deliberately decide differently from Math-Verify (the reason is in `note`). */
const deliberateDisagreements = new Set(["mvk-053", "mvk-060", "mvk-070", "mvk-086"]);

const optionsFor = (entry: KindCase): EquivalenceOptions => ({
  ...(entry.extraction === undefined ? {} : { extraction: entry.extraction }),
  // Math-Verify rounds to `floatRounding` decimal places; a relative tolerance of the same order.
  ...(entry.floatRounding === undefined ? {} : { relativeTolerance: 10 ** -entry.floatRounding }),
});

const verdicts = cases.map((entry) => ({
  entry,
  result: explainEquivalence(entry.gold, entry.pred, optionsFor(entry)),
}));

describe("Math-Verify verdicts by kind (independent fixture)", () => {
  it("has at least 150 verdicts, each with a source, none from the public fixture", () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    for (const entry of cases) expect(entry.source).not.toBe("");
    const publicCases: ReadonlyArray<{ gold: string; pred: string }> = JSON.parse(
      readFileSync(new URL("./fixtures/math-cases.json", import.meta.url), "utf8"),
    );
    const seen = new Set(publicCases.map((entry) => `${entry.gold}\u0000${entry.pred}`));
    for (const entry of cases) expect(seen.has(`${entry.gold}\u0000${entry.pred}`)).toBe(false);
  });

  it("agrees with at least 95 % of the unflagged cases (per-kind table printed)", () => {
    const unflagged = verdicts.filter(({ entry }) => entry.flag === undefined);
    const byKind = new Map<string, { agree: number; total: number }>();
    for (const { entry, result } of unflagged) {
      const counts = byKind.get(entry.kind) ?? { agree: 0, total: 0 };
      counts.total += 1;
      if (result.equivalent === entry.expected) counts.agree += 1;
      byKind.set(entry.kind, counts);
    }
    const lines = [...byKind.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, { agree, total }]) => `| ${kind} | ${agree} / ${total} |`);
    const agree = unflagged.filter(({ entry, result }) => result.equivalent === entry.expected).length;
    console.log(
      `agreement per kind (unflagged):\n${lines.join("\n")}\n| total | ${agree} / ${unflagged.length} |`,
    );
    for (const { entry, result } of unflagged.filter(
      ({ entry, result }) => result.equivalent !== entry.expected,
    ))
      console.log(`disagree ${entry.id} (${entry.kind}): ${JSON.stringify(result)}`);
    expect(agree / unflagged.length).toBeGreaterThanOrEqual(0.95);
  });

  it("decides every flagged case as documented", () => {
    const flagged = verdicts.filter(({ entry }) => entry.flag !== undefined);
    expect(flagged.map(({ entry }) => entry.id).sort()).toEqual([...deliberateDisagreements].sort());
    for (const { entry, result } of flagged) {
      expect(entry.note).toBeDefined();
      expect({ id: entry.id, equivalent: result.equivalent }).toEqual({
        id: entry.id,
        equivalent: !entry.expected,
      });
    }
  });
});
