/** The help texts of `apo-bench` and its subcommands. */
export const mainHelp = `apo-bench — benchmarks of apo-rl: quality evals, algorithm comparisons, performance

Usage:
  apo-bench eval [options]            evaluate a policy on a dataset (accuracy, format, lengths, pass@k)
  apo-bench compare [options]         train grpo / grpoD / apo / apo ablations under identical seeds
  apo-bench perf <suite>|all [options]  performance suites: tensor, rewards, model, generate, train-step
  apo-bench <subcommand> --help       the subcommand's options
  apo-bench --help | --version

Every run writes <out>/<name>.json (machine, versions, settings, results), <out>/<name>.md (a
markdown table) and <out>/<name>-<chart>.svg. Default <out>: bench-results.
Exit status: 0 done, 1 the benchmark failed, 2 bad command line; --verbose prints a failure's
cause chain. See docs/benchmarks.md.`;

const common = `  --out <dir>              output directory (default bench-results)
  --name <name>            output file name (default: the subcommand's)
  -q, --quiet              no progress lines on stderr
  --verbose                on failure, also print the error's stack and cause chain
  -h, --help               this help`;

export const evalHelp = `apo-bench eval — evaluate a policy on a dataset

Usage: apo-bench eval [--policy demo|demo-init|reasoning|<checkpoint dir>] [--dataset synthetic|<file>] [options]

Policy and data:
  --policy <source>        demo (the demo's SFT checkpoint, default), reasoning (the reasoning
                           task's SFT checkpoint, default with --task reasoning), demo-init (demo
                           architecture, random weights), or a Qwen2.5-VL checkpoint directory
  --task <t>               synthetic task: counting (default) | reasoning (the enumerating
                           reasoning task's fixed held-out split; categories count-1 … count-n)
  --max-count <n>          reasoning: the largest count (default 6)
  --lora-rank <r>          evaluate through fresh LoRA adapters (B = 0: same outputs; default off)
  --dataset <source>       synthetic (the counting task's fixed held-out split, default) or a
                           View-R1 JSON / JSONL file
  --format <f>             view-r1 | jsonl (default: .jsonl files are JSONL, others View-R1)
  --size <n>               synthetic: held-out prompts (default 64)
  --variant <v>            synthetic: count | sum | mixed (default count)
  --difficulty <d>         synthetic: 0–1 (default 0.5)
  --target-colors <list>   synthetic: the colours questions ask about, e.g. red (default all)
  --limit <n>              files: the first n items only
  --skip-invalid           files: skip bad rows instead of failing
  --allow-outside-root     files: allow image paths outside the dataset's directory
Sampling:
  --samples <n>            responses per prompt (default 1; > 1 needs --temperature > 0)
  --temperature <t>        0 = greedy (default), else sampled
  --max-new-tokens <n>     response budget (default 64)
  --pass-at-k <list>       k values, e.g. 1,4,8 (default 1, 2, 4, … up to --samples)
  --batch-size <n>         prompts per generate call (default 16)
  --seed <s>               sampling seed (default 0)
Scoring (the trainer's reward settings):
  --reward <preset>        view-r1 (accuracy + 0.5 · format, default) | accuracy
  --accuracy <verifier>    counting (default for synthetic) | math (default for files) | choice
  --workers <n>            verifier worker threads, 0 = in this thread (default 1)
  --backend <name>         tfjs backend: auto (default), wasm, cpu, …
${common}`;

export const compareHelp = `apo-bench compare — train several objectives under identical seeds and budgets

Usage: apo-bench compare [--objectives grpo,grpoD,apo,apo-no-dads,apo-no-stcr] [--seeds 3] [--steps 100] [options]

Every objective trains once per seed from the same policy on a synthetic task with the same
config; the tables report held-out accuracy before/after (mean ± std over seeds), the policy
entropy, the mean length of incorrect responses and the KL to the reference over the last quarter
of the steps, and wall time; what STCR and DADS did (penalised fraction and scale, DADS weights,
difficulty, the KL term's share of the loss); and, when grpo is compared, each objective's
seed-paired difference from grpo with a 95 % t-interval. Charts show the per-step trajectories.

  --task <t>               counting (the demo's setup, default) | reasoning (the reasoning task
                           from its warm start: apps/trainer/assets/reasoning/rl.yaml)
  --objectives <list>      labels: grpo, grpoD, apo, apo-no-dads, apo-no-stcr (default all five),
                           or any registered objective name (its default options); options in
                           brackets override the label's, e.g. apo[stcrBase=1.001,beta=0.04]
  --seeds <n>              seeds 0 … n−1 (default 3)
  --seed-list <list>       explicit seeds, e.g. 0,1,2 (overrides --seeds)
  --steps <n>              training steps per run (default 100, as the demo)
  --policy <source>        demo (default), reasoning (default with --task reasoning), demo-init,
                           or a checkpoint directory
  --config <file>          a trainer YAML/JSON config as the base (default: the built-in one, see docs)
  --set <key=value>        a trainer config override for every run (repeatable), e.g.
                           --set optimizer.lr=5e-5 --set rollout.groupSize=4
  --runs-dir <dir>         where the run directories go (default <out>/compare-runs)
  --reuse-runs             read back every run whose directory already holds a finished run of
                           exactly its config instead of training it again (resume a study, or
                           run disjoint --seed-list sets in parallel and summarise them together)
${common}`;

export const perfHelp = `apo-bench perf — performance suites

Usage: apo-bench perf <suite>|all [--quick] [--repeats n] [options]

Suites:
  tensor       fused vs naive log-prob ops of @apo-rl/tensor (time, extra peak memory), V = 151,936
  rewards      verifier throughput (math answers, LaTeX), one thread and the worker pool, p50/p99
  model        Qwen2.5-VL forward / decode / vision throughput and peak memory (random weights)
  generate     rollout engine: batched generate and the training log-prob passes
  train-step   one full RL step by phase (rollout, reward, reference log-probs, forward, backward,
               update) on the demo model and a Qwen2.5-0.5B-sized decoder
  all          every suite, one after the other

  --quick                  tiny shapes, one timed run: a smoke run, not a measurement
  --repeats <n>            timed runs per case (median reported); the suite's default otherwise
train-step only:
  --models <list>          demo, qwen2.5-0.5b, qwen2.5-vl-3b (default demo and 0.5b; --quick: demo)
  --backend <name>         run every suite on this backend (e.g. webgpu; sets APO_BACKEND), instead
                           of wasm or cpu chosen by the model's size
  --wasm-threads <n|auto>  the wasm backend's threads (sets APO_WASM_THREADS; default 1): threads pay on
                           idle cores for large models, and busy-wait, so they lose on shared cores
  --prompts <n>            prompts per step (default 4 demo, 2 for 0.5B)
  --group-size <n>         responses per prompt (default 4 demo, 2 for 0.5B)
  --max-new-tokens <n>     response budget (default 32 demo, 8 for 0.5B)
  --lora-rank <r>          LoRA rank of the 0.5B model, 0 = full fine-tuning (default 16)
  --warmup <n>             untimed steps first (default 1)
  --no-gradient-checkpointing  keep every layer's activations (default: recompute them in the backward)
  --no-reference-in-rollout  a separate reference pass (default: LoRA rollouts score the reference in twin rows)
  --no-retain-states  the loss pass runs its own forward (default: a LoRA policy starts it from its rollout's decoder states)
  --max-tokens-per-micro-batch <n>  the trainer's train.maxTokensPerMicroBatch (default: every row at once)
${common}`;
