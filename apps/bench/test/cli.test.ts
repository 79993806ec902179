import { describe, expect, it } from "vitest";
import { bench } from "./support/cli.js";

describe("apo-bench command line", () => {
  it("prints the main help and each subcommand's help", async () => {
    const main = await bench(["--help"]);
    expect(main.status).toBe(0);
    for (const subcommand of ["eval", "compare", "perf"])
      expect(main.stdout).toContain(`apo-bench ${subcommand}`);
    const expected = {
      eval: ["--policy", "--dataset", "--samples", "--pass-at-k", "--temperature"],
      compare: ["--objectives", "--seeds", "--steps", "--set", "apo-no-dads", "apo-no-stcr"],
      perf: ["tensor", "rewards", "model", "generate", "train-step", "--quick", "--repeats"],
    } as const;
    for (const [subcommand, words] of Object.entries(expected)) {
      const help = await bench([subcommand, "--help"]);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(`apo-bench ${subcommand} —`);
      expect(help.stdout).toContain("--out <dir>");
      for (const word of words) expect(help.stdout).toContain(word);
    }
  });

  it("without arguments prints the help with status 2; unknown subcommands are errors", async () => {
    expect((await bench([])).status).toBe(2);
    const unknown = await bench(["benchmark"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown subcommand "benchmark"');
  });

  it("names the option of a bad number", async () => {
    const run = await bench(["compare", "--steps", "zero"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--steps: expected a number in [1, Infinity], got "zero"');
    const colours = await bench(["eval", "--target-colors", "red,crimson"]);
    expect(colours.status).toBe(2);
    expect(colours.stderr).toContain("--target-colors");
    expect(colours.stderr).toContain('"red,crimson"');
    const version = await bench(["--version"]);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
