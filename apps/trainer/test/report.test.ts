import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { escapeXml, lineChartSvg, niceTicks } from "../src/lineChart.js";
import { readMetrics, writeReport } from "../src/report.js";

describe("line chart", () => {
  it("chooses 1-2-5 ticks covering the range", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97)).toEqual([20, 40, 60, 80]);
    expect(niceTicks(-0.013, 0.021)).toEqual([-0.01, 0, 0.01, 0.02]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });

  it("maps points to the plot area as computed by hand", () => {
    // width 200, height 150, margins l56 r16 t28 b40 → plot x ∈ [56, 184], y ∈ [28, 110].
    const svg = lineChartSvg({
      title: "t",
      width: 200,
      height: 150,
      series: [
        {
          name: "s",
          points: [
            [0, 0],
            [1, 0.5],
            [2, 1],
          ],
        },
      ],
    });
    expect(svg).toContain('points="56,110 120,69 184,28"');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="150"')).toBe(true);
  });

  it("breaks the line at missing values and draws lone points as dots", () => {
    const svg = lineChartSvg({
      title: "gaps",
      width: 200,
      height: 150,
      series: [
        {
          name: "s",
          points: [
            [0, 0],
            [1, null],
            [2, 1],
            [3, 0.5],
            [4, Number.NaN],
          ],
        },
      ],
    });
    expect(svg.match(/<polyline/g)?.length).toBe(1);
    expect(svg.match(/<circle/g)?.length).toBe(1);
  });

  it("says when there is no data and escapes text", () => {
    const svg = lineChartSvg({ title: 'a<b & "c"', series: [{ name: "x", points: [[1, null]] }] });
    expect(svg).toContain("no data");
    expect(svg).toContain("a&#60;b &#38; &#34;c&#34;");
    expect(escapeXml("<script>")).toBe("&#60;script&#62;");
  });
});

describe("report", () => {
  it("renders every curve from metrics.jsonl into one self-contained file", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "apo-report-"));
    const train = (step: number, reward: number) => ({
      kind: "train",
      step,
      reward,
      accuracy: reward,
      formatRate: null,
      loss: 0.1 / step,
      memoryBytes: 2 ** 20,
      meanLengthCorrect: 10,
      meanLengthIncorrect: 20,
      stcrPenalisedFraction: 0.25,
      dadsWeightMin: 0.3,
    });
    const lines = [
      JSON.stringify({ kind: "eval", step: 0, accuracy: 0.1 }),
      JSON.stringify(train(1, 0.2)),
      "not json",
      JSON.stringify(train(2, 0.6)),
      JSON.stringify({ kind: "eval", step: 2, accuracy: 0.7 }),
    ];
    writeFileSync(join(runDir, "metrics.jsonl"), `${lines.join("\n")}\n`);
    expect(await readMetrics(join(runDir, "metrics.jsonl"))).toHaveLength(4);
    const path = await writeReport(runDir, { steps: 2, objective: "apo" }, "My <run>");
    const html = readFileSync(path, "utf8");
    expect(html).toContain("<title>My &#60;run&#62;</title>");
    expect(html).toContain("<th>objective</th><td>apo</td>");
    expect(html.match(/<svg /g)?.length).toBe(18);
    expect(html).toContain("STCR: incorrect samples penalised");
    expect(html).toContain("DADS weights and difficulty");
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|url\(/);
  });
});
