import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/errors.js";
import { parseServeArguments, runServeCli } from "../src/serve/serveCommand.js";

describe("apo-serve command line", () => {
  it("binds to loopback on port 8000 by default, with no token", () => {
    expect(parseServeArguments(["--model", "demo"], {})).toEqual({
      model: "demo",
      host: "127.0.0.1",
      port: 8000,
      servedModelName: undefined,
      apiKey: undefined,
      maxQueue: 64,
      maxLoras: 8,
      maxBatch: 32,
      backend: "auto",
    });
  });

  it("reads every flag (also as --flag=value) and the token from APO_SERVE_API_KEY", () => {
    const parsed = parseServeArguments(
      [
        "--model=/ckpt",
        "--port",
        "0",
        "--host",
        "::1",
        "--served-model-name",
        "policy",
        "--max-queue=3",
        "--max-loras",
        "2",
        "--max-batch=1",
        "--backend",
        "cpu",
      ],
      { APO_SERVE_API_KEY: "from-env" },
    );
    expect(parsed).toMatchObject({
      model: "/ckpt",
      port: 0,
      host: "::1",
      servedModelName: "policy",
      maxQueue: 3,
      maxLoras: 2,
      maxBatch: 1,
      backend: "cpu",
      apiKey: "from-env",
    });
    expect(
      parseServeArguments(["--model", "demo", "--api-key", "flag"], { APO_SERVE_API_KEY: "env" })?.apiKey,
    ).toBe("flag");
    expect(parseServeArguments(["--help"], {})).toBeUndefined();
  });

  it("refuses a missing model, unknown flags, bad numbers and backends with a ConfigError naming them", () => {
    expect(() => parseServeArguments([], {})).toThrow(/--model is required/);
    expect(() => parseServeArguments(["--model", "demo", "--verbose"], {})).toThrow(ConfigError);
    expect(() => parseServeArguments(["--model", "demo", "--port", "http"], {})).toThrow(/--port/);
    expect(() => parseServeArguments(["--model", "demo", "--max-queue", "0"], {})).toThrow(/--max-queue/);
    expect(() => parseServeArguments(["--model", "demo", "--max-batch", "0"], {})).toThrow(/--max-batch/);
    expect(() => parseServeArguments(["--model", "demo", "--backend", "tpu"], {})).toThrow(/--backend/);
    expect(() => parseServeArguments(["--model"], {})).toThrow(/--model needs a value/);
  });

  it("exits 2 on a bad command line and 0 on --help", async () => {
    const errors: string[] = [];
    const printed: string[] = [];
    const output = {
      stdout: (text: string) => printed.push(text),
      stderr: (text: string) => errors.push(text),
    };
    expect(await runServeCli(["--port", "1"], output)).toBe(2);
    expect(errors.join("")).toMatch(/apo-serve: .*--model is required/);
    expect(await runServeCli(["--help"], output)).toBe(0);
    expect(printed.join("")).toMatch(/Usage:\n {2}apo-serve --model/);
  });
});
