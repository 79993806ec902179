import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { invalidRequest, notFound, ServeRequestError } from "./errors.js";
import {
  decodeChatCompletionRequest,
  decodeCompletionRequest,
  decodeLoadLoraRequest,
  decodeScoringRequest,
  decodeUnloadLoraRequest,
  decodeUpdateWeightsRequest,
  isScoringRequest,
} from "./openAiRequests.js";
import {
  chatCompletionResponse,
  completionResponse,
  errorResponse,
  modelListResponse,
  scoringResponse,
} from "./openAiResponses.js";
import {
  type EncodedRequest,
  type EncodedScoring,
  type GenerationResult,
  generationBatchKey,
  type ScoredPrompt,
  type ServeEngine,
} from "./ServeEngine.js";

/**
 * Options of {@link startRolloutServer}.
 *
 * @since 0.1.0
 * @category serve
 */
export interface RolloutServerOptions {
  /** Address to bind (default `127.0.0.1`: loopback only). */
  readonly host?: string;
  /** Port (default 0: any free port; the bound one is in `RolloutServer.port`). */
  readonly port?: number;
  /** When set, every endpoint but `/health` needs `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** Most requests queued or running at once; one more is answered 429 with `Retry-After` (default 64). */
  readonly maxQueue?: number;
  /** Largest request body in bytes (default 64 MiB); a larger one is answered 413. */
  readonly maxBodyBytes?: number;
  /** Seconds a 429 asks the client to wait (default 1). */
  readonly retryAfterSeconds?: number;
  /**
   * Most completion requests decoded together in one batch (default 32; 1 decodes one at a time).
   * Requests waiting in the queue with the same model and sampling settings (all but the seed) are
   * batched, as vLLM and SGLang batch concurrent requests; each keeps its own seed.
   */
  readonly maxBatchRequests?: number;
}

/**
 * A running `apo-serve` HTTP server.
 *
 * @since 0.1.0
 * @category serve
 */
export interface RolloutServer {
  readonly url: string;
  readonly port: number;
  /** Requests queued or running. */
  readonly pending: number;
  /**
   * Graceful shutdown: refuse new requests (503), finish the queued and running ones, then close
   * every connection. Resolves once the server is closed.
   */
  close(): Promise<void>;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
  /** Send `body` as `text/plain` (vLLM answers the LoRA endpoints with a text line). */
  readonly text?: boolean;
}

type Route = {
  readonly method: "GET" | "POST";
  readonly open?: boolean;
  /** Runs on the engine: queued behind other engine work (generations queue themselves, batched). */
  readonly queued: boolean;
  /** A generation: counted while it arrives, so that a starting batch can wait for it. */
  readonly generation?: boolean;
  readonly run: (body: unknown, queued: () => void) => Promise<Reply> | Reply;
};

/** Longest wait of a starting batch for generation requests still arriving. */
const BATCH_WAIT_MS = 50;
/**
 * Requests a client sends together reach the server a moment apart (one per connection): a starting
 * batch first lets those already on the wire be read, so that they join it.
 */
const BATCH_GRACE_MS = 2;

/** A scoring request waiting in the queue (scored in one pass with others of the same model and temperature). */
interface ScoringJob {
  readonly encoded: EncodedScoring;
  readonly key: string;
  readonly number: number;
  taken: boolean;
  readonly resolve: (result: ReadonlyArray<ScoredPrompt>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The batch `job` heads: it and the waiting jobs with its key queued after it and before the next
 * weight sync (`barriers`: queue numbers), at most `maxBatch`; they are marked taken and leave
 * `waiting`.
 */
const takeBatch = <Job extends { readonly key: string; readonly number: number; taken: boolean }>(
  job: Job,
  waiting: Job[],
  barriers: ReadonlySet<number>,
  maxBatch: number,
): Job[] => {
  const limit = Math.min(...[...barriers].filter((number) => number > job.number));
  const batch = [job];
  for (const other of waiting)
    if (batch.length < maxBatch && other !== job && other.key === job.key && other.number < limit)
      batch.push(other);
  for (const member of batch) {
    member.taken = true;
    const index = waiting.indexOf(member);
    if (index >= 0) waiting.splice(index, 1);
  }
  return batch;
};

/** A generation request waiting in the queue. */
interface GenerationJob {
  readonly encoded: EncodedRequest;
  readonly key: string;
  /** Its place in the queue. */
  readonly number: number;
  /** Already decoded in an earlier job's batch. */
  taken: boolean;
  readonly resolve: (result: GenerationResult) => void;
  readonly reject: (error: unknown) => void;
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** Compare bearer tokens in constant time (hashes of equal length, whatever the lengths of the tokens). */
const tokenMatches = (header: string | undefined, expected: Buffer): boolean => {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  const given = digest(match?.[1]?.trim() ?? "");
  return timingSafeEqual(given, expected) && match !== null;
};

const readBody = (request: IncomingMessage, limit: number): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    request.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(
          new ServeRequestError({
            status: 413,
            type: "invalid_request_error",
            param: null,
            reason: `The request body exceeds ${limit} bytes.`,
          }),
        );
        return;
      }
      chunks.push(chunk);
    });
    request.on("error", (error) => {
      if (!failed) reject(error);
    });
    request.on("end", () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(invalidRequest(null, `The request body is not valid JSON: ${(error as Error).message}`));
      }
    });
  });

const send = (response: ServerResponse, reply: Reply, headers: Record<string, string> = {}) => {
  const text =
    reply.text === true ? String(reply.body) : reply.body === undefined ? "" : JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    "content-type": reply.text === true ? "text/plain; charset=utf-8" : "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
};

/** SGLang answers its weight endpoints with `{ success, message }` bodies, failures with 400. */
const sglangFailure = (error: unknown, field: "message" | "error_message"): Reply => ({
  status: error instanceof ServeRequestError ? error.status : 500,
  body: { success: false, [field]: error instanceof Error ? error.message : String(error) },
});

/**
 * Serve `engine` over HTTP with the OpenAI-compatible API and the vLLM/SGLang weight-sync endpoints:
 *
 * - `GET /health` (200; 503 while shutting down), `GET /v1/models`;
 * - `POST /v1/chat/completions`, `POST /v1/completions`;
 * - vLLM: `POST /v1/load_lora_adapter {lora_name, lora_path}`, `POST /v1/unload_lora_adapter {lora_name}`;
 * - SGLang: `POST /update_weights_from_disk {model_path, weight_version?}`, `POST /load_lora_adapter`,
 *   `POST /unload_lora_adapter`, `GET /get_model_info`, `GET /get_weight_version`.
 *
 * Engine work runs one job at a time in arrival order; at most `maxQueue` requests wait or run, the
 * next is answered 429 with `Retry-After`. Completion requests waiting together with the same model
 * and sampling settings are decoded in one batch (each with its own seed; see `maxBatchRequests`);
 * a weight sync waits for the generations queued before it and is never overtaken by later ones.
 * Bad requests get OpenAI-style JSON errors.
 *
 * @since 0.1.0
 * @category serve
 */
export const startRolloutServer = async (
  engine: ServeEngine,
  options: RolloutServerOptions = {},
): Promise<RolloutServer> => {
  const host = options.host ?? "127.0.0.1";
  const maxQueue = options.maxQueue ?? 64;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const expectedToken = options.apiKey === undefined ? undefined : digest(options.apiKey);
  const maxBatch = options.maxBatchRequests ?? 32;
  let pending = 0;
  let tail: Promise<unknown> = Promise.resolve();
  let draining = false;
  /** Queued engine jobs, numbered in arrival order. */
  let queued = 0;
  /** Numbers of the queued jobs that are not generations (weight sync): batches never cross them. */
  const barriers = new Set<number>();
  /** Generation requests queued and not yet decoded. */
  const waiting: Array<GenerationJob> = [];
  /** Scoring requests queued and not yet scored. */
  const waitingScores: Array<ScoringJob> = [];
  /** Generation requests whose body is being read or tokenised. */
  let arriving = 0;

  const enqueue = <A>(job: () => Promise<A> | A): Promise<A> => {
    if (pending >= maxQueue)
      return Promise.reject(
        new ServeRequestError({
          status: 429,
          type: "rate_limit_error",
          param: null,
          reason: `The server is busy: ${pending} requests are queued (--max-queue ${maxQueue}). Retry after ${retryAfter} s.`,
        }),
      );
    pending += 1;
    queued += 1;
    // Yield to the event loop first: requests that arrived meanwhile are read and queued (or refused).
    const result = tail.then(() => new Promise((resolve) => setImmediate(resolve))).then(job);
    tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      pending -= 1;
    });
  };

  /** A weight-sync or other engine job: generations queued after it never join a batch before it. */
  const enqueueBarrier = <A>(job: () => Promise<A> | A): Promise<A> => {
    const number = queued + 1;
    barriers.add(number);
    return enqueue(job).finally(() => barriers.delete(number));
  };

  /**
   * Queue one generation. When its turn comes it is decoded together with the generations queued
   * after it that share its batch key (up to `maxBatch`, never past a weight sync); those then
   * find their result ready when their own turn comes.
   */
  const enqueueGeneration = (encoded: EncodedRequest, queuedNow: () => void): Promise<GenerationResult> => {
    let resolve: (result: GenerationResult) => void = () => undefined;
    let reject: (error: unknown) => void = () => undefined;
    const result = new Promise<GenerationResult>((onResult, onError) => {
      resolve = onResult;
      reject = onError;
    });
    // A batch can fail before this request's turn: handled there, not an unhandled rejection.
    result.catch(() => undefined);
    const job: GenerationJob = {
      encoded,
      key: generationBatchKey(encoded.request),
      number: queued + 1,
      taken: false,
      resolve,
      reject,
    };
    const decodeBatch = async () => {
      if (job.taken) return;
      if (waiting.length < maxBatch) await new Promise((resolve) => setTimeout(resolve, BATCH_GRACE_MS));
      // Generations still being read (sent together with this one) join the batch: wait briefly.
      const deadline = performance.now() + BATCH_WAIT_MS;
      while (arriving > 0 && waiting.length < maxBatch && performance.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 1));
      if (job.taken) return;
      const batch = takeBatch(job, waiting, barriers, maxBatch);
      try {
        const results = await engine.generate(batch.map((member) => member.encoded));
        for (const [index, member] of batch.entries()) member.resolve(results[index]!);
      } catch (error) {
        for (const member of batch) member.reject(error);
      }
    };
    const turn = enqueue(decodeBatch);
    // Refused (429): it never joins a batch.
    if (job.number === queued) waiting.push(job);
    queuedNow();
    return turn.then(() => result);
  };

  /**
   * Queue one scoring request. When its turn comes it is scored in one forward pass together with
   * the scoring requests queued after it for the same model and temperature (never past a weight
   * sync), as generations are batched.
   */
  const enqueueScoring = (encoded: EncodedScoring): Promise<ReadonlyArray<ScoredPrompt>> => {
    let resolve: (result: ReadonlyArray<ScoredPrompt>) => void = () => undefined;
    let reject: (error: unknown) => void = () => undefined;
    const result = new Promise<ReadonlyArray<ScoredPrompt>>((onResult, onError) => {
      resolve = onResult;
      reject = onError;
    });
    result.catch(() => undefined);
    const job: ScoringJob = {
      encoded,
      key: JSON.stringify([encoded.request.model ?? null, encoded.request.temperature]),
      number: queued + 1,
      taken: false,
      resolve,
      reject,
    };
    const scoreBatch = async () => {
      if (job.taken) return;
      if (waitingScores.length < maxBatch)
        await new Promise((resolve) => setTimeout(resolve, BATCH_GRACE_MS));
      if (job.taken) return;
      const batch = takeBatch(job, waitingScores, barriers, maxBatch);
      try {
        const scored = engine.score({
          request: job.encoded.request,
          rows: batch.flatMap((member) => member.encoded.rows),
        });
        let offset = 0;
        for (const member of batch) {
          member.resolve(scored.slice(offset, offset + member.encoded.rows.length));
          offset += member.encoded.rows.length;
        }
      } catch (error) {
        for (const member of batch) member.reject(error);
      }
    };
    const turn = enqueue(scoreBatch);
    if (job.number === queued) waitingScores.push(job);
    return turn.then(() => result);
  };

  const routes: Record<string, Route> = {
    "/health": { method: "GET", open: true, queued: false, run: () => ({ status: 200, body: undefined }) },
    "/v1/models": {
      method: "GET",
      queued: false,
      run: () => ({ status: 200, body: modelListResponse(engine.models()) }),
    },
    "/v1/chat/completions": {
      method: "POST",
      queued: false,
      generation: true,
      run: async (body, queued) => {
        const request = decodeChatCompletionRequest(body);
        const result = await enqueueGeneration(engine.encodeChat(request), queued);
        return { status: 200, body: chatCompletionResponse(result, request) };
      },
    },
    "/v1/completions": {
      method: "POST",
      queued: false,
      generation: true,
      run: async (body, queued) => {
        if (isScoringRequest(body)) {
          // Scoring (`echo`, `max_tokens: 0`): a forward pass queued like any engine job.
          const request = decodeScoringRequest(body);
          const encoded = engine.encodeScoring(request);
          queued();
          const scored = await enqueueScoring(encoded);
          return {
            status: 200,
            body: scoringResponse(request.model ?? engine.servedModelName, scored, request),
          };
        }
        const request = decodeCompletionRequest(body);
        const result = await enqueueGeneration(engine.encodeCompletion(request), queued);
        return { status: 200, body: completionResponse(result, request) };
      },
    },
    "/v1/load_lora_adapter": {
      method: "POST",
      queued: true,
      run: async (body) => {
        const { name, path } = decodeLoadLoraRequest(body);
        await engine.loadLoraAdapter(name, path);
        return { status: 200, text: true, body: `Success: LoRA adapter '${name}' added successfully.` };
      },
    },
    "/v1/unload_lora_adapter": {
      method: "POST",
      queued: true,
      run: (body) => {
        const { name } = decodeUnloadLoraRequest(body);
        engine.unloadLoraAdapter(name);
        return { status: 200, text: true, body: `Success: LoRA adapter '${name}' removed successfully.` };
      },
    },
    "/load_lora_adapter": {
      method: "POST",
      queued: true,
      run: async (body) => {
        try {
          const { name, path } = decodeLoadLoraRequest(body);
          await engine.loadLoraAdapter(name, path);
          return {
            status: 200,
            body: { success: true, error_message: "", loaded_adapters: engine.loraAdapters() },
          };
        } catch (error) {
          return sglangFailure(error, "error_message");
        }
      },
    },
    "/unload_lora_adapter": {
      method: "POST",
      queued: true,
      run: (body) => {
        try {
          engine.unloadLoraAdapter(decodeUnloadLoraRequest(body).name);
          return {
            status: 200,
            body: { success: true, error_message: "", loaded_adapters: engine.loraAdapters() },
          };
        } catch (error) {
          return sglangFailure(error, "error_message");
        }
      },
    },
    "/update_weights_from_disk": {
      method: "POST",
      queued: true,
      run: async (body) => {
        try {
          const { modelPath, weightVersion } = decodeUpdateWeightsRequest(body);
          await engine.updateWeightsFromDisk(modelPath, weightVersion);
          return {
            status: 200,
            body: { success: true, message: "Succeeded to update model weights.", num_paused_requests: 0 },
          };
        } catch (error) {
          return sglangFailure(error, "message");
        }
      },
    },
    "/get_model_info": {
      method: "GET",
      queued: false,
      run: () => ({
        status: 200,
        body: {
          model_path: engine.modelPath,
          tokenizer_path: engine.modelPath,
          is_generation: true,
          weight_version: engine.weightVersion,
        },
      }),
    },
    "/get_weight_version": {
      method: "GET",
      queued: false,
      run: () => ({ status: 200, body: { weight_version: engine.weightVersion } }),
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    let counted = false;
    const arrived = () => {
      if (!counted) return;
      counted = false;
      arriving -= 1;
    };
    try {
      const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
      const route = routes[path];
      if (route === undefined) throw notFound(null, `No route ${request.method} ${path}.`);
      if (request.method !== route.method)
        throw new ServeRequestError({
          status: 405,
          type: "invalid_request_error",
          param: null,
          reason: `${path} accepts ${route.method}, not ${request.method}.`,
        });
      if (draining)
        throw new ServeRequestError({
          status: 503,
          type: "service_unavailable",
          param: null,
          reason: "The server is shutting down.",
        });
      if (
        expectedToken !== undefined &&
        route.open !== true &&
        !tokenMatches(request.headers.authorization, expectedToken)
      )
        throw new ServeRequestError({
          status: 401,
          type: "authentication_error",
          param: null,
          reason: "Missing or wrong bearer token (Authorization: Bearer <api key>).",
        });
      if (route.generation === true) {
        arriving += 1;
        counted = true;
      }
      const body = route.method === "POST" ? await readBody(request, maxBodyBytes) : undefined;
      const reply = route.queued
        ? await enqueueBarrier(() => route.run(body, arrived))
        : await route.run(body, arrived);
      send(response, reply);
    } catch (error) {
      if (error instanceof ServeRequestError)
        send(
          response,
          { status: error.status, body: errorResponse(error) },
          error.status === 429 ? { "retry-after": retryAfter } : {},
        );
      else
        send(response, {
          status: 500,
          body: errorResponse({
            status: 500,
            type: "internal_server_error",
            param: null,
            reason: error instanceof Error ? error.message : String(error),
          }),
        });
    } finally {
      arrived();
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Keep idle connections open long: a trainer busy with a step for longer than Node's 5 s default
  // would otherwise find its pooled connection closed under it.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    get pending() {
      return pending;
    },
    close: () => {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Let the queued and running requests finish and their replies go out.
        while (pending > 0) await tail;
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
};
