import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerationRequest } from "@apo-rl/core";
import { syntheticCountingTask, toGenerationRequest } from "@apo-rl/datasets";
import type { QwenVLPolicy } from "@apo-rl/qwen-vl";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCheckpointDirectory } from "../src/demo/demoAssets.js";
import { loadQwenPolicy } from "../src/qwen/loadQwenPolicy.js";
import { decodeChatCompletionRequest } from "../src/serve/openAiRequests.js";
import { type RolloutServer, startRolloutServer } from "../src/serve/rolloutServer.js";
import { createServeEngine, type ServeEngine } from "../src/serve/ServeEngine.js";
import { testBackends, useBackend } from "./support/backends.js";

// Request and response shapes written from the public API documentation:
// - OpenAI chat completions (https://platform.openai.com/docs/api-reference/chat/create): `messages`
//   with `image_url` content parts, `n`, `temperature`, `top_p`, `seed`, `max_tokens`, `logprobs`;
//   the response's `choices[].logprobs.content[] = { token, logprob, bytes, top_logprobs }`.
// - OpenAI completions (https://platform.openai.com/docs/api-reference/completions/create):
//   `logprobs = { tokens, token_logprobs, top_logprobs, text_offset }`.
// - vLLM's OpenAI-compatible server (docs.vllm.ai, "LoRA Adapters", "Dynamically serving LoRA
//   Adapters"): POST /v1/load_lora_adapter {"lora_name", "lora_path"}, POST /v1/unload_lora_adapter
//   {"lora_name"}; `return_tokens_as_token_ids` makes log-prob tokens read "token_id:<id>".
// - SGLang (docs.sglang.ai, "Native APIs" and "SGLang for RL Systems"): POST /update_weights_from_disk
//   {"model_path"} answers {"success", "message"}; /load_lora_adapter answers {"success", ...}.

// biome-ignore lint/suspicious/noExplicitAny: JSON responses, checked field by field
type Json = any;

const DOCUMENTED_IMAGE_PART = (url: string) => ({ type: "image_url", image_url: { url } });

const demoRequest = (): GenerationRequest => {
  const item = syntheticCountingTask({ trainSize: 1, heldOutSize: 0, difficulty: 0.25 }).train[0]!;
  return toGenerationRequest(item);
};

/** The OpenAI form of the demo request, written out by hand. */
const openAiMessages = (request: GenerationRequest) => {
  const user = request.messages[0]!;
  const parts = user.content as ReadonlyArray<{ type: string; text?: string }>;
  const png = Buffer.from(request.images![0] as Uint8Array).toString("base64");
  return [
    {
      role: "user",
      content: parts.map((part) =>
        part.type === "text"
          ? { type: "text", text: part.text }
          : DOCUMENTED_IMAGE_PART(`data:image/png;base64,${png}`),
      ),
    },
  ];
};

const post = async (
  server: RolloutServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json: json as Json, headers: response.headers };
};

const expectOpenAiError = (json: Json, code: number, param?: string) => {
  expect(Object.keys(json)).toEqual(["error"]);
  expect(typeof json["error"].message).toBe("string");
  expect(json["error"].message.length).toBeGreaterThan(0);
  expect(typeof json["error"].type).toBe("string");
  expect(json["error"].code).toBe(code);
  if (param !== undefined) expect(json["error"].param).toBe(param);
};

for (const backend of testBackends) {
  describe(`apo-serve protocol (${backend})`, () => {
    let engine: ServeEngine;
    let server: RolloutServer;
    let policy: QwenVLPolicy;
    const request = demoRequest();

    beforeAll(async () => {
      await useBackend(backend);
      engine = await createServeEngine(demoCheckpointDirectory(), { servedModelName: "demo" });
      server = await startRolloutServer(engine, { maxQueue: 2 });
      policy = await loadQwenPolicy(demoCheckpointDirectory(), { entropy: false });
    });
    afterAll(async () => {
      await server?.close();
      engine?.dispose();
      policy?.dispose();
      policy?.model.dispose();
    });

    it("binds to loopback; /health and /v1/models answer as documented", async () => {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      const models = (await (await fetch(`${server.url}/v1/models`)).json()) as Json;
      expect(models["object"]).toBe("list");
      expect(models["data"]).toHaveLength(1);
      expect(models["data"][0]).toMatchObject({ id: "demo", object: "model", parent: null });
      expect(typeof models["data"][0].created).toBe("number");
    });

    it("chat completion with an image data URI, n, seed and logprobs: OpenAI shape, the in-process policy's tokens", async () => {
      const tensorsBefore = tf.memory().numTensors;
      const { status, json } = await post(server, "/v1/chat/completions", {
        model: "demo",
        messages: openAiMessages(request),
        n: 3,
        temperature: 1,
        top_p: 1,
        seed: 1234,
        max_tokens: 12,
        logprobs: true,
        top_logprobs: 0,
        return_token_ids: true,
      });
      expect(status).toBe(200);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(json["object"]).toBe("chat.completion");
      expect(json["id"]).toMatch(/^chatcmpl-/);
      expect(json["model"]).toBe("demo");
      expect(json["choices"]).toHaveLength(3);
      const expected = await policy.generate([request], {
        n: 3,
        temperature: 1,
        topP: 1,
        maxNewTokens: 12,
        seed: 1234,
      });
      let completionTokens = 0;
      json["choices"].forEach((choice: Json, index: number) => {
        expect(choice["index"]).toBe(index);
        expect(choice["message"]).toEqual({ role: "assistant", content: expected[index]!.text });
        expect(["stop", "length"]).toContain(choice["finish_reason"]);
        expect(choice["finish_reason"]).toBe(expected[index]!.finishReason);
        expect(choice["token_ids"]).toEqual(expected[index]!.tokenIds);
        const content = choice["logprobs"].content as Array<Json>;
        expect(content).toHaveLength(expected[index]!.tokenIds.length);
        content.forEach((entry, position) => {
          expect(Object.keys(entry).sort()).toEqual(["bytes", "logprob", "token", "top_logprobs"]);
          expect(entry["top_logprobs"]).toEqual([]);
          expect(entry["bytes"]).toEqual([...Buffer.from(entry["token"], "utf8")]);
          expect(entry["logprob"]).toBeCloseTo(expected[index]!.logprobs[position]!, 5);
        });
        completionTokens += content.length;
      });
      expect(json["usage"].completion_tokens).toBe(completionTokens);
      expect(json["usage"].total_tokens).toBe(json["usage"].prompt_tokens + completionTokens);
      expect(json["prompt_token_ids"]).toHaveLength(json["usage"].prompt_tokens);
    });

    it("the same seed gives the same tokens; greedy equals the in-process greedy rollout", async () => {
      const body = {
        messages: openAiMessages(request),
        n: 2,
        temperature: 0,
        max_tokens: 12,
        logprobs: true,
        return_tokens_as_token_ids: true,
      };
      const first = await post(server, "/v1/chat/completions", { ...body, seed: 7 });
      const second = await post(server, "/v1/chat/completions", { ...body, seed: 7 });
      expect(first.status).toBe(200);
      expect(second.json["choices"].map((choice: Json) => choice.message)).toEqual(
        first.json["choices"].map((choice: Json) => choice.message),
      );
      const [greedy] = await policy.generate([request], { n: 1, temperature: 0, maxNewTokens: 12, seed: 0 });
      const tokens = first.json["choices"][0].logprobs.content.map((entry: Json) => entry.token);
      expect(tokens).toEqual(greedy!.tokenIds.map((id) => `token_id:${id}`));
    });

    it("/v1/completions on a rendered prompt answers the text_completion shape", async () => {
      const { status, json } = await post(server, "/v1/completions", {
        model: "demo",
        prompt: "<|im_start|>user\nHow many red shapes are there?<|im_end|>\n<|im_start|>assistant\n",
        max_tokens: 5,
        temperature: 0,
        logprobs: 0,
      });
      expect(status).toBe(200);
      expect(json["object"]).toBe("text_completion");
      const choice = json["choices"][0];
      expect(Object.keys(choice.logprobs).sort()).toEqual([
        "text_offset",
        "token_logprobs",
        "tokens",
        "top_logprobs",
      ]);
      expect(choice.logprobs.tokens).toHaveLength(choice.logprobs.token_logprobs.length);
      expect(choice.logprobs.text_offset[0]).toBe(0);
      for (const value of choice.logprobs.token_logprobs) expect(value).toBeLessThanOrEqual(0);
      expect(json["usage"].completion_tokens).toBe(choice.logprobs.tokens.length);
    });

    it("400 with the field named: missing messages, bad temperature, remote image URL, bad JSON", async () => {
      const missing = await post(server, "/v1/chat/completions", { model: "demo" });
      expect(missing.status).toBe(400);
      expectOpenAiError(missing.json, 400, "messages");
      const temperature = await post(server, "/v1/chat/completions", {
        messages: [{ role: "user", content: "hi" }],
        temperature: -1,
      });
      expect(temperature.status).toBe(400);
      expectOpenAiError(temperature.json, 400, "temperature");
      const remote = await post(server, "/v1/chat/completions", {
        messages: [{ role: "user", content: [DOCUMENTED_IMAGE_PART("https://example.com/cat.png")] }],
      });
      expect(remote.status).toBe(400);
      expectOpenAiError(remote.json, 400, "messages[0].content[0].image_url.url");
      const broken = await post(server, "/v1/chat/completions", "{not json");
      expect(broken.status).toBe(400);
      expectOpenAiError(broken.json, 400);
    });

    it("404 for an unknown model, an unknown adapter and an unknown route; 405 for a wrong method", async () => {
      const model = await post(server, "/v1/chat/completions", {
        model: "nope",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(model.status).toBe(404);
      expectOpenAiError(model.json, 404, "model");
      const unload = await post(server, "/v1/unload_lora_adapter", { lora_name: "never-loaded" });
      expect(unload.status).toBe(404);
      expectOpenAiError(unload.json, 404, "lora_name");
      const sglangUnload = await post(server, "/unload_lora_adapter", { lora_name: "never-loaded" });
      expect(sglangUnload.status).toBe(404);
      expect(sglangUnload.json["success"]).toBe(false);
      const route = await post(server, "/v2/nothing", {});
      expect(route.status).toBe(404);
      const method = await fetch(`${server.url}/v1/chat/completions`);
      expect(method.status).toBe(405);
    });

    it("vLLM LoRA endpoints: the loaded adapter samples as the in-process LoRA policy; unload removes it", async () => {
      const lora = await loadQwenPolicy(demoCheckpointDirectory(), {
        lora: { rank: 2, alpha: 4, dropout: 0, targetModules: ["q", "v"] },
        entropy: false,
      });
      try {
        for (const variable of lora.adapter!.variables())
          variable.assign(tf.randomNormal(variable.shape, 0, 0.5, "float32", 3));
        const directory = mkdtempSync(join(tmpdir(), "apo-serve-lora-"));
        await lora.save(directory);
        const loaded = await post(server, "/v1/load_lora_adapter", {
          lora_name: "policy-v1",
          lora_path: directory,
        });
        expect(loaded.status).toBe(200);
        expect(loaded.json).toBe("Success: LoRA adapter 'policy-v1' added successfully.");
        const again = await post(server, "/v1/load_lora_adapter", {
          lora_name: "policy-v1",
          lora_path: directory,
        });
        expect(again.status).toBe(400);
        expectOpenAiError(again.json, 400, "lora_name");
        const models = (await (await fetch(`${server.url}/v1/models`)).json()) as Json;
        expect(models["data"][1]).toMatchObject({ id: "policy-v1", parent: "demo", root: directory });
        const body = {
          messages: openAiMessages(request),
          n: 2,
          temperature: 1,
          seed: 99,
          max_tokens: 12,
          logprobs: true,
          return_token_ids: true,
        };
        const adapted = await post(server, "/v1/chat/completions", { ...body, model: "policy-v1" });
        const expected = await lora.generate([request], { n: 2, temperature: 1, maxNewTokens: 12, seed: 99 });
        expect(adapted.json["choices"].map((choice: Json) => choice.token_ids)).toEqual(
          expected.map((rollout) => rollout.tokenIds),
        );
        const unloaded = await post(server, "/v1/unload_lora_adapter", { lora_name: "policy-v1" });
        expect(unloaded.status).toBe(200);
        const gone = await post(server, "/v1/chat/completions", { ...body, model: "policy-v1" });
        expect(gone.status).toBe(404);
      } finally {
        lora.dispose();
        lora.model.dispose();
      }
    });

    it("SGLang /update_weights_from_disk: new weights sample as a policy loaded from them; a bad path is 400", async () => {
      const changed = await loadQwenPolicy(demoCheckpointDirectory(), { entropy: false });
      try {
        const [weight] = changed.trainableParameters();
        weight!.assign(tf.tidy(() => tf.add(weight!, tf.randomNormal(weight!.shape, 0, 0.5, "float32", 5))));
        const directory = mkdtempSync(join(tmpdir(), "apo-serve-weights-"));
        await changed.save(directory);
        const updated = await post(server, "/update_weights_from_disk", {
          model_path: directory,
          weight_version: "v7",
        });
        expect(updated.status).toBe(200);
        expect(updated.json).toMatchObject({ success: true, message: expect.any(String) });
        const version = (await (await fetch(`${server.url}/get_weight_version`)).json()) as Json;
        expect(version).toEqual({ weight_version: "v7" });
        const body = {
          messages: openAiMessages(request),
          n: 2,
          temperature: 1,
          seed: 5,
          max_tokens: 12,
          logprobs: true,
          return_token_ids: true,
        };
        const sampled = await post(server, "/v1/chat/completions", body);
        const expected = await changed.generate([request], {
          n: 2,
          temperature: 1,
          maxNewTokens: 12,
          seed: 5,
        });
        expect(sampled.json["choices"].map((choice: Json) => choice.token_ids)).toEqual(
          expected.map((rollout) => rollout.tokenIds),
        );
        const bad = await post(server, "/update_weights_from_disk", {
          model_path: join(directory, "missing"),
        });
        expect(bad.status).toBe(400);
        expect(bad.json["success"]).toBe(false);
        expect(bad.json["message"]).toMatch(/model\.safetensors/);
        const restored = await post(server, "/update_weights_from_disk", {
          model_path: demoCheckpointDirectory(),
        });
        expect(restored.status).toBe(200);
      } finally {
        changed.dispose();
        changed.model.dispose();
      }
    });

    it("a full queue answers 429 with Retry-After", async () => {
      // A gate in front of the engine holds the first request while the others arrive.
      let open: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const gated: ServeEngine = Object.assign(Object.create(engine) as ServeEngine, {
        generate: async (encoded: Parameters<ServeEngine["generate"]>[0]) => {
          await gate;
          return engine.generate(encoded);
        },
      });
      const busyServer = await startRolloutServer(gated, { maxQueue: 2 });
      try {
        const body = { messages: openAiMessages(request), n: 2, temperature: 1, seed: 1, max_tokens: 4 };
        const first = post(busyServer, "/v1/chat/completions", body);
        const second = post(busyServer, "/v1/chat/completions", body);
        while (busyServer.pending < 2) await new Promise((resolve) => setTimeout(resolve, 5));
        const busy = await post(busyServer, "/v1/chat/completions", body);
        expect(busy.status).toBe(429);
        expectOpenAiError(busy.json, 429);
        expect(busy.headers.get("retry-after")).toBe("1");
        open();
        expect((await first).status).toBe(200);
        expect((await second).status).toBe(200);
        expect((await post(busyServer, "/v1/chat/completions", body)).status).toBe(200);
      } finally {
        open();
        await busyServer.close();
      }
    });
  });
}

describe("apo-serve bearer token and shutdown", () => {
  let engine: ServeEngine;
  beforeAll(async () => {
    await useBackend(testBackends[0]!);
    engine = await createServeEngine(demoCheckpointDirectory(), { servedModelName: "demo" });
  });
  afterAll(() => engine?.dispose());

  it("requires the bearer token on the API (401 without or with a wrong one) but not on /health", async () => {
    const server = await startRolloutServer(engine, { apiKey: "s3cret" });
    try {
      const body = { messages: [{ role: "user", content: "How many red shapes are there?" }], max_tokens: 2 };
      expect((await post(server, "/v1/chat/completions", body)).status).toBe(401);
      const wrong = await post(server, "/v1/chat/completions", body, { authorization: "Bearer s3cre" });
      expect(wrong.status).toBe(401);
      expectOpenAiError(wrong.json, 401);
      expect(
        (await post(server, "/v1/chat/completions", body, { authorization: "Bearer s3cret" })).status,
      ).toBe(200);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("graceful shutdown finishes the request in flight and takes no new one", async () => {
    const server = await startRolloutServer(engine);
    const body = {
      messages: [{ role: "user", content: "How many red shapes are there?" }],
      n: 8,
      max_tokens: 12,
      seed: 3,
    };
    const inFlight = post(server, "/v1/chat/completions", body);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = server.close();
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(answered.json["choices"]).toHaveLength(8);
    await closing;
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });
});

describe("apo-serve batching", () => {
  let engine: ServeEngine;
  beforeAll(async () => {
    await useBackend(testBackends[0]!);
    engine = await createServeEngine(demoCheckpointDirectory(), { servedModelName: "demo" });
  });
  afterAll(() => engine?.dispose());

  /** The engine behind a gate (held until `open`), recording each engine operation in order. */
  const recording = () => {
    const operations: string[] = [];
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const wrapped: ServeEngine = Object.assign(Object.create(engine) as ServeEngine, {
      generate: async (encoded: Parameters<ServeEngine["generate"]>[0]) => {
        operations.push(`generate ${encoded.map((item) => item.request.seed).join(",")}`);
        await gate;
        return engine.generate(encoded);
      },
      updateWeightsFromDisk: async (path: string, version: string | undefined) => {
        operations.push("update");
        return engine.updateWeightsFromDisk(path, version);
      },
    });
    return { wrapped, operations, open: () => open() };
  };

  it("decodes queued requests with the same settings in one batch, each as it samples alone", async () => {
    const { wrapped, operations, open } = recording();
    const server = await startRolloutServer(wrapped);
    const request = demoRequest();
    const body = (seed: number, temperature = 1) => ({
      messages: openAiMessages(request),
      n: 4,
      temperature,
      seed,
      max_tokens: 12,
      logprobs: true,
      return_token_ids: true,
    });
    try {
      const first = post(server, "/v1/chat/completions", body(1));
      while (operations.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      const others = [2, 3].map((seed) => post(server, "/v1/chat/completions", body(seed)));
      const greedy = post(server, "/v1/chat/completions", body(4, 0));
      while (server.pending < 4) await new Promise((resolve) => setTimeout(resolve, 5));
      open();
      const answers = await Promise.all([first, ...others, greedy]);
      // The first was decoded alone (nothing else was queued yet); the two that waited with the same
      // settings together; the greedy one, with other settings, on its own.
      expect(operations).toEqual(["generate 1", "generate 2,3", "generate 4"]);
      for (const [index, seed] of [1, 2, 3].entries()) {
        const alone = await engine.chat(decodeChatCompletionRequest(body(seed)));
        const choices = answers[index]!.json["choices"] as Json[];
        expect(choices.map((choice) => choice["token_ids"])).toEqual(
          alone.choices.map((choice) => choice.tokenIds),
        );
        choices.forEach((choice, row) => {
          (choice["logprobs"].content as Json[]).forEach((entry, position) => {
            expect(entry["logprob"]).toBeCloseTo(alone.choices[row]!.logprobs[position]!, 4);
          });
        });
      }
    } finally {
      open();
      await server.close();
    }
  });

  it("never batches a request past a weight update queued before it", async () => {
    const { wrapped, operations, open } = recording();
    const server = await startRolloutServer(wrapped);
    const body = (seed: number) => ({
      messages: [{ role: "user", content: "How many red shapes are there?" }],
      n: 2,
      seed,
      max_tokens: 4,
    });
    try {
      const first = post(server, "/v1/chat/completions", body(1));
      while (operations.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = post(server, "/v1/chat/completions", body(2));
      while (server.pending < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      const update = post(server, "/update_weights_from_disk", {
        model_path: demoCheckpointDirectory(),
        weight_version: "1",
      });
      while (server.pending < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      const third = post(server, "/v1/chat/completions", body(3));
      const fourth = post(server, "/v1/chat/completions", body(4));
      while (server.pending < 5) await new Promise((resolve) => setTimeout(resolve, 5));
      open();
      const statuses = (await Promise.all([first, second, update, third, fourth])).map(
        (answer) => answer.status,
      );
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      expect(operations).toEqual(["generate 1", "generate 2", "update", "generate 3,4"]);
    } finally {
      open();
      await server.close();
    }
  });
});

// Scoring a text, as written in the OpenAI legacy completions documentation: `echo: true` with
// `max_tokens: 0` and `logprobs: 0` answers each prompt token's log-prob in
// `choices[].logprobs.token_logprobs` (`null` for the first); `logprob_start_len` is SGLang's name
// (native `/generate`) for the first position returned. The reference is addressed as a model id.
for (const backend of testBackends) {
  describe(`apo-serve reference scoring (${backend})`, () => {
    let engine: ServeEngine;
    let server: RolloutServer;
    let trainer: QwenVLPolicy;
    // Two prompts whose token ids are the same (same text, same image size) but whose images differ.
    const [request, second] = syntheticCountingTask({
      trainSize: 2,
      heldOutSize: 0,
      difficulty: 0.25,
    }).train.map(toGenerationRequest) as [GenerationRequest, GenerationRequest];
    const other: GenerationRequest = {
      ...request,
      promptId: `${request.promptId}-other`,
      images: second.images!,
    };
    /** The chat messages with vLLM's `uuid` on the image part. */
    const withUuid = (of: GenerationRequest, uuid: string) =>
      openAiMessages(of).map((message) => ({
        ...message,
        content: message.content.map((part) => (part.type === "image_url" ? { ...part, uuid } : part)),
      }));

    beforeAll(async () => {
      await useBackend(backend);
      engine = await createServeEngine(demoCheckpointDirectory(), {
        servedModelName: "demo",
        referenceModelName: "demo-reference",
      });
      server = await startRolloutServer(engine);
      // The trainer's side: full fine-tuning with a frozen reference copy, as the demo trains.
      trainer = await loadQwenPolicy(demoCheckpointDirectory(), { entropy: false, reference: true });
    });
    afterAll(async () => {
      await server?.close();
      engine?.dispose();
      trainer?.dispose();
      trainer?.model.dispose();
    });

    const sample = async (seed: number, of = request, uuid = "image-a") => {
      const { status, json } = await post(server, "/v1/chat/completions", {
        model: "demo",
        messages: withUuid(of, uuid),
        n: 3,
        temperature: 0.7,
        seed,
        max_tokens: 12,
        logprobs: true,
        return_token_ids: true,
      });
      expect(status).toBe(200);
      return {
        promptIds: json["prompt_token_ids"] as number[],
        responses: json["choices"].map((choice: Json) => choice["token_ids"]) as number[][],
      };
    };
    const score = (
      model: string,
      promptIds: ReadonlyArray<number>,
      responses: ReadonlyArray<number[]>,
      uuid = "image-a",
    ) =>
      post(server, "/v1/completions", {
        model,
        multi_modal_uuids: { image: [uuid] },
        prompt: responses.map((response) => [...promptIds, ...response]),
        echo: true,
        logprobs: 0,
        max_tokens: 0,
        temperature: 0.7,
        logprob_start_len: promptIds.length,
      });
    /** The trainer's own pass over the same responses (`reference` or the current weights). */
    const inProcess = (
      responses: ReadonlyArray<number[]>,
      reference: boolean,
      policy = trainer,
      of = request,
    ) =>
      tf.tidy(
        () =>
          policy
            .logprobs(
              {
                requests: [of],
                rollouts: responses.map((tokenIds, groupIndex) => ({
                  promptId: of.promptId,
                  groupIndex,
                  tokenIds,
                  logprobs: tokenIds.map(() => 0),
                  text: "",
                  finishReason: "stop" as const,
                })),
                temperature: 0.7,
              },
              { reference },
            )
            .logp.arraySync() as number[][],
      );
    const expectScores = (json: Json, promptIds: ReadonlyArray<number>, expected: number[][]) => {
      expect(json["object"]).toBe("text_completion");
      expect(json["choices"]).toHaveLength(expected.length);
      json["choices"].forEach((choice: Json, row: number) => {
        expect(choice["index"]).toBe(row);
        expect(choice["finish_reason"]).toBe("length");
        const values = choice["logprobs"]["token_logprobs"] as Array<number | null>;
        expect(choice["logprobs"]["tokens"]).toHaveLength(values.length);
        expect(values.slice(0, promptIds.length).every((value) => value === null)).toBe(true);
        const scored = values.slice(promptIds.length) as number[];
        expect(scored.length).toBeGreaterThan(0);
        scored.forEach((value, position) => {
          expect(value).toBeCloseTo(expected[row]![position]!, 4);
        });
      });
      expect(json["usage"]["completion_tokens"]).toBe(0);
    };

    it("/v1/models lists the reference; its scores equal the trainer's reference pass, before and after a weight update", async () => {
      const models = (await (await fetch(`${server.url}/v1/models`)).json()) as Json;
      expect(models["data"].map((model: Json) => [model.id, model.parent])).toEqual([
        ["demo", null],
        ["demo-reference", null],
      ]);
      const sampled = await sample(21);
      const promptIds = sampled.promptIds;
      // Rows with different tokens (a confident policy may sample the same response thrice).
      const responses = sampled.responses.map((response, row) =>
        row === 0
          ? response
          : [...response.slice(row), ...response.slice(0, row)].slice(0, response.length - 2 * row),
      );
      const reference = inProcess(responses, true);
      const tensorsBefore = tf.memory().numTensors;
      const before = await score("demo-reference", promptIds, responses);
      expect(before.status).toBe(200);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expectScores(before.json, promptIds, reference);
      // Another prompt with the same token ids but another image: scored with its own image.
      const sampledOther = await sample(24, other, "image-b");
      expect(sampledOther.promptIds).toEqual(promptIds);
      const otherReference = inProcess(responses, true, trainer, other);
      const largestGap = Math.max(
        ...otherReference.flatMap((row, index) =>
          row.map((value, position) => Math.abs(value - reference[index]![position]!)),
        ),
      );
      expect(largestGap).toBeGreaterThan(1e-3);
      expectScores(
        (await score("demo-reference", promptIds, responses, "image-b")).json,
        promptIds,
        otherReference,
      );
      expectScores(
        (await score("demo-reference", promptIds, responses, "image-a")).json,
        promptIds,
        reference,
      );
      // Sent together, the two are scored in one batch: each still with its own image.
      const [batchedA, batchedB] = await Promise.all([
        score("demo-reference", promptIds, responses, "image-a"),
        score("demo-reference", promptIds, responses, "image-b"),
      ]);
      expectScores(batchedA.json, promptIds, reference);
      expectScores(batchedB.json, promptIds, otherReference);

      // Replace the served weights (SGLang's update_weights_from_disk); the reference must not move.
      const changed = await loadQwenPolicy(demoCheckpointDirectory(), { entropy: false });
      try {
        for (const parameter of changed.trainableParameters().slice(0, 6))
          parameter.assign(
            tf.tidy(() => tf.add(parameter, tf.randomNormal(parameter.shape, 0, 0.3, "float32", 3))),
          );
        const directory = mkdtempSync(join(tmpdir(), "apo-serve-reference-"));
        await changed.save(directory);
        expect((await post(server, "/update_weights_from_disk", { model_path: directory })).status).toBe(200);
        const current = inProcess(responses, false, changed);
        expect(current[0]![0]).not.toBeCloseTo(reference[0]![0]!, 3);
        // The chat prompt must be recent: sample again with the new weights (same prompt).
        await sample(22);
        expectScores((await score("demo-reference", promptIds, responses)).json, promptIds, reference);
        expectScores((await score("demo", promptIds, responses)).json, promptIds, current);
      } finally {
        await post(server, "/update_weights_from_disk", { model_path: demoCheckpointDirectory() });
        changed.dispose();
        changed.model.dispose();
      }
    });

    it("reference_model (apo-serve's extension) scores the sampled responses in the same request, as the trainer's reference pass", async () => {
      const body = {
        model: "demo",
        messages: openAiMessages(request),
        n: 3,
        temperature: 0.7,
        seed: 31,
        max_tokens: 12,
        logprobs: true,
        return_token_ids: true,
      };
      const plain = await post(server, "/v1/chat/completions", body);
      expect(plain.status).toBe(200);
      const tensorsBefore = tf.memory().numTensors;
      const scored = await post(server, "/v1/chat/completions", {
        ...body,
        reference_model: "demo-reference",
      });
      expect(scored.status).toBe(200);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      const tokensOf = (json: Json) =>
        json["choices"].map((choice: Json) => choice["token_ids"]) as number[][];
      // The same tokens and sampling log-probs as without it: the extension only adds the scores.
      const responses = tokensOf(scored.json);
      expect(responses).toEqual(tokensOf(plain.json));
      expect(plain.json["choices"][0]["reference_logprobs"]).toBeUndefined();
      const expectReference = (json: Json, expected: number[][]) =>
        json["choices"].forEach((choice: Json, row: number) => {
          const values = choice["reference_logprobs"] as number[];
          expect(values).toHaveLength(choice["token_ids"].length);
          values.forEach((value, position) => {
            expect(value).toBeCloseTo(expected[row]![position]!, 4);
          });
        });
      expectReference(scored.json, inProcess(responses, true));
      // Two requests sent together are decoded and scored in one batch, each with its own image.
      const [first, withOther] = await Promise.all([
        post(server, "/v1/chat/completions", { ...body, seed: 32, reference_model: "demo-reference" }),
        post(server, "/v1/chat/completions", {
          ...body,
          seed: 33,
          messages: openAiMessages(other),
          reference_model: "demo-reference",
        }),
      ]);
      expectReference(first.json, inProcess(tokensOf(first.json), true));
      expectReference(withOther.json, inProcess(tokensOf(withOther.json), true, trainer, other));
      // /v1/completions takes it too (a text prompt here).
      const completion = await post(server, "/v1/completions", {
        model: "demo",
        prompt: "How many",
        n: 2,
        temperature: 0.7,
        seed: 5,
        max_tokens: 4,
        logprobs: 0,
        return_token_ids: true,
        reference_model: "demo-reference",
      });
      expect(completion.status).toBe(200);
      for (const choice of completion.json["choices"])
        expect(choice["reference_logprobs"]).toHaveLength(choice["token_ids"].length);
      // Errors: an unknown model is a 404, a malformed field a 400 naming it.
      const unknown = await post(server, "/v1/chat/completions", { ...body, reference_model: "nope" });
      expect(unknown.status).toBe(404);
      expect(unknown.json["error"]["message"]).toContain("nope");
      const malformed = await post(server, "/v1/chat/completions", { ...body, reference_model: 3 });
      expect(malformed.status).toBe(400);
      expect(malformed.json["error"]["param"]).toBe("reference_model");
    });

    it("scores a text-only token prompt from its second token; refuses what it cannot score with a 400", async () => {
      const { promptIds, responses } = await sample(23);
      const imageToken = trainer.model.config.tokens.imageTokenId;
      const text = await post(server, "/v1/completions", {
        model: "demo-reference",
        prompt: promptIds.filter((id) => id !== imageToken).slice(0, 6),
        echo: true,
        logprobs: 0,
        max_tokens: 0,
      });
      expect(text.json).toMatchObject({ object: "text_completion" });
      expect(text.status).toBe(200);
      const values = text.json["choices"][0]["logprobs"]["token_logprobs"] as Array<number | null>;
      expect(values[0]).toBeNull();
      expect(values).toHaveLength(6);
      expect(values.slice(1).every((value) => typeof value === "number" && value <= 0)).toBe(true);

      const sequence = [...promptIds, ...responses[0]!];
      const base = {
        model: "demo-reference",
        echo: true,
        logprobs: 0,
        max_tokens: 0,
        multi_modal_uuids: { image: ["image-a"] },
      };
      // Image tokens with no image named, or one this server never saw in a chat request.
      const { multi_modal_uuids: _, ...unnamed } = base;
      const missing = await post(server, "/v1/completions", {
        ...unnamed,
        prompt: sequence,
        logprob_start_len: promptIds.length,
      });
      expect(missing.status).toBe(400);
      expectOpenAiError(missing.json, 400, "prompt[0]");
      const unknown = await post(server, "/v1/completions", {
        ...base,
        multi_modal_uuids: { image: ["never-sent"] },
        prompt: sequence,
        logprob_start_len: promptIds.length,
      });
      expect(unknown.status).toBe(400);
      expectOpenAiError(unknown.json, 400, "multi_modal_uuids");
      // A prompt that does not start with the named chat prompt.
      const other = await post(server, "/v1/completions", {
        ...base,
        prompt: [[...sequence.slice(0, 3), imageToken, ...sequence.slice(3)]],
        logprob_start_len: promptIds.length + 1,
      });
      expect(other.status).toBe(400);
      expectOpenAiError(other.json, 400, "prompt[0]");
      const inside = await post(server, "/v1/completions", {
        ...base,
        prompt: sequence,
        logprob_start_len: 2,
      });
      expect(inside.status).toBe(400);
      expectOpenAiError(inside.json, 400, "logprob_start_len");
      const generating = await post(server, "/v1/completions", { ...base, prompt: sequence, max_tokens: 4 });
      expect(generating.status).toBe(400);
      expectOpenAiError(generating.json, 400, "max_tokens");
      const unknownModel = await post(server, "/v1/completions", {
        ...base,
        model: "nope",
        prompt: sequence,
      });
      expect(unknownModel.status).toBe(404);
    });
  });
}
