import { type BackendName, initBackend, isBackendName } from "@apo-rl/tensor";
import { demoCheckpointDirectory } from "../demo/demoAssets.js";
import { ConfigError } from "../errors.js";
import { type CliOutput, describeFailure } from "../runCli.js";
import { startRolloutServer } from "./rolloutServer.js";
import { createServeEngine } from "./ServeEngine.js";

/**
 * `apo-serve --help`.
 *
 * @since 0.1.0
 * @category serve
 */
export const serveUsage = `apo-serve — an OpenAI-compatible rollout server for a Qwen2.5-VL checkpoint

Usage:
  apo-serve --model <checkpoint directory | demo> [options]

Options:
  --model <dir|demo>           the checkpoint to serve (demo: the embedded demo's SFT checkpoint)
  --host <address>             address to bind (default 127.0.0.1: loopback only)
  --port <n>                   port (default 8000; 0 picks a free one)
  --served-model-name <name>   the base model's id in requests and /v1/models (default: --model)
  --api-key <token>            require "Authorization: Bearer <token>" (or set APO_SERVE_API_KEY)
  --max-queue <n>              requests queued or running before 429 (default 64)
  --max-loras <n>              LoRA adapters loaded at once (default 8)
  --reference-model-name <id>  also serve a frozen copy of the weights loaded at start under this
                               id (the KL reference: update_weights_from_disk leaves it alone)
  --max-batch <n>              queued requests with the same sampling settings decoded in one
                               batch, each with its own seed (default 32; 1: one at a time)
  --backend <name>             tfjs backend: auto, wasm, cpu, ... (default auto)

Endpoints: /health, /v1/models, /v1/completions, /v1/chat/completions, vLLM's
/v1/load_lora_adapter and /v1/unload_lora_adapter, SGLang's /update_weights_from_disk,
/load_lora_adapter, /unload_lora_adapter, /get_model_info, /get_weight_version.
Once listening it prints one JSON line: {"event":"listening","url":...}. SIGINT/SIGTERM finish
the requests in flight, then exit. See docs/rollout-service.md.`;

/**
 * The parsed command line of `apo-serve`.
 *
 * @since 0.1.0
 * @category serve
 */
export interface ServeArguments {
  readonly model: string;
  readonly host: string;
  readonly port: number;
  readonly servedModelName: string | undefined;
  readonly apiKey: string | undefined;
  readonly maxQueue: number;
  readonly maxLoras: number;
  readonly maxBatch: number;
  readonly backend: string;
  readonly referenceModelName: string | undefined;
}

const integerOption = (flag: string, value: string, minimum: number): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum || number > 65_535 * 1000)
    throw new ConfigError({
      source: "command line",
      reason: `${flag} must be an integer ≥ ${minimum}, got ${JSON.stringify(value)}`,
    });
  return number;
};

/**
 * Parse `apo-serve`'s arguments (`undefined` for `--help`); throws a `ConfigError` naming the flag.
 *
 * @since 0.1.0
 * @category serve
 */
export const parseServeArguments = (
  argv: ReadonlyArray<string>,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): ServeArguments | undefined => {
  const values: Record<string, string> = {};
  const flags = [
    "--model",
    "--host",
    "--port",
    "--served-model-name",
    "--api-key",
    "--max-queue",
    "--max-loras",
    "--max-batch",
    "--backend",
    "--reference-model-name",
  ];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === "-h" || argument === "--help") return undefined;
    const equals = argument.indexOf("=");
    const flag = argument.startsWith("--") && equals !== -1 ? argument.slice(0, equals) : argument;
    if (!flags.includes(flag))
      throw new ConfigError({
        source: "command line",
        reason: `unknown argument ${JSON.stringify(argument)} (see apo-serve --help)`,
      });
    let value: string | undefined;
    if (equals !== -1 && argument.startsWith("--")) value = argument.slice(equals + 1);
    else {
      value = argv[index + 1];
      index += 1;
    }
    if (value === undefined || value === "")
      throw new ConfigError({ source: "command line", reason: `${flag} needs a value` });
    values[flag] = value;
  }
  const model = values["--model"];
  if (model === undefined)
    throw new ConfigError({
      source: "command line",
      reason: "--model is required (a checkpoint directory or demo)",
    });
  const backend = values["--backend"] ?? "auto";
  if (backend !== "auto" && !isBackendName(backend))
    throw new ConfigError({
      source: "command line",
      reason: `--backend ${JSON.stringify(backend)} is not a backend name`,
    });
  const referenceModelName = values["--reference-model-name"];
  if (referenceModelName !== undefined && referenceModelName === (values["--served-model-name"] ?? model))
    throw new ConfigError({
      source: "command line",
      reason: `--reference-model-name must differ from the served model name (${referenceModelName})`,
    });
  return {
    model,
    host: values["--host"] ?? "127.0.0.1",
    port: integerOption("--port", values["--port"] ?? "8000", 0),
    servedModelName: values["--served-model-name"],
    apiKey: values["--api-key"] ?? (environment["APO_SERVE_API_KEY"] || undefined),
    maxQueue: integerOption("--max-queue", values["--max-queue"] ?? "64", 1),
    maxLoras: integerOption("--max-loras", values["--max-loras"] ?? "8", 1),
    maxBatch: integerOption("--max-batch", values["--max-batch"] ?? "32", 1),
    backend,
    referenceModelName,
  };
};

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * `apo-serve …` without the process exit: loads the checkpoint, serves it until SIGINT/SIGTERM (or
 * `stopSignal`), then shuts down gracefully. Resolves to the exit status (0 stopped, 1 failed, 2
 * bad command line).
 *
 * @since 0.1.0
 * @category serve
 */
export const runServeCli = async (
  argv: ReadonlyArray<string>,
  output: CliOutput = processOutput,
  options: { readonly stopSignal?: AbortSignal } = {},
): Promise<number> => {
  let parsed: ServeArguments | undefined;
  try {
    parsed = parseServeArguments(argv);
  } catch (error) {
    output.stderr(`apo-serve: ${describeFailure(error)}\n`);
    return 2;
  }
  if (parsed === undefined) {
    output.stdout(`${serveUsage}\n`);
    return 0;
  }
  try {
    const report = await initBackend(parsed.backend === "auto" ? undefined : (parsed.backend as BackendName));
    const directory = parsed.model === "demo" ? demoCheckpointDirectory() : parsed.model;
    const engine = await createServeEngine(directory, {
      servedModelName: parsed.servedModelName ?? parsed.model,
      maxLoras: parsed.maxLoras,
      ...(parsed.referenceModelName === undefined ? {} : { referenceModelName: parsed.referenceModelName }),
    });
    const server = await startRolloutServer(engine, {
      host: parsed.host,
      port: parsed.port,
      maxQueue: parsed.maxQueue,
      maxBatchRequests: parsed.maxBatch,
      ...(parsed.apiKey === undefined ? {} : { apiKey: parsed.apiKey }),
    });
    output.stdout(
      `${JSON.stringify({ event: "listening", url: server.url, model: engine.servedModelName, backend: report.chosen, pid: process.pid })}\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      options.stopSignal?.addEventListener("abort", stop, { once: true });
    });
    await server.close();
    engine.dispose();
    output.stderr("apo-serve: stopped\n");
    return 0;
  } catch (error) {
    output.stderr(`apo-serve: ${describeFailure(error)}\n`);
    return 1;
  }
};
