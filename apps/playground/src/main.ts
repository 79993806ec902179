import type { RawImage } from "@apo-rl/core";
import { objectiveRegistry } from "@apo-rl/objectives";
import {
  type ChartSeries,
  type EvaluationRecord,
  lineChartSvg,
  type TrainStepRecord,
} from "@apo-rl/trainer/portable";
import { chooseBackend } from "./backend.js";
import { type PanelEntry, type PlaygroundSummary, TrainingSession } from "./session.js";
import {
  DEFAULT_SETTINGS,
  type PlaygroundSettings,
  parseSettings,
  settingsQuery,
  trainerConfigOf,
} from "./settings.js";

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
};

const form = element<HTMLFormElement>("controls");
const startButton = element<HTMLButtonElement>("start");
const pauseButton = element<HTMLButtonElement>("pause");
const resetButton = element<HTMLButtonElement>("reset");
const downloadButton = element<HTMLButtonElement>("download");

const objectiveSelect = form.elements.namedItem("objective") as HTMLSelectElement;
for (const name of objectiveRegistry.names()) objectiveSelect.add(new Option(name, name));

const log = (line: string) => {
  element("log").textContent += `${line}\n`;
};
const showError = (error: unknown) => {
  element("error").textContent = error instanceof Error ? error.message : String(error);
  log(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
};

/** Fill the form from settings (blank for objective options left at their defaults). */
const fillForm = (settings: PlaygroundSettings) => {
  for (const [key, value] of Object.entries(settings)) {
    const field = form.elements.namedItem(key) as HTMLInputElement | HTMLSelectElement | null;
    if (field === null) continue;
    field.value = value === undefined ? "" : typeof value === "boolean" ? (value ? "1" : "0") : String(value);
  }
};

const formSettings = (): PlaygroundSettings =>
  parseSettings([...new FormData(form).entries()].map(([key, value]) => [key, String(value)] as const));

let urlSettings: PlaygroundSettings = DEFAULT_SETTINGS;
try {
  urlSettings = parseSettings(new URLSearchParams(location.search).entries());
} catch (error) {
  showError(error);
}
fillForm(urlSettings);

// ── charts ──────────────────────────────────────────────────────────────────────────────────────
const steps: Array<TrainStepRecord> = [];
const evaluations: Array<EvaluationRecord> = [];
const charts: ReadonlyArray<{ title: string; series: () => ReadonlyArray<ChartSeries> }> = [
  {
    title: "reward",
    series: () => [{ name: "train reward", points: steps.map((r) => [r.step, r.reward] as const) }],
  },
  {
    title: "accuracy",
    series: () => [
      { name: "train", points: steps.map((r) => [r.step, r.accuracy] as const) },
      { name: "held-out", points: evaluations.map((r) => [r.step, r.accuracy] as const) },
    ],
  },
  {
    title: "entropy",
    series: () => [{ name: "entropy", points: steps.map((r) => [r.step, r.entropy] as const) }],
  },
  {
    title: "KL to the reference",
    series: () => [{ name: "kl", points: steps.map((r) => [r.step, r.kl] as const) }],
  },
  {
    title: "clip fraction",
    series: () => [{ name: "clip fraction", points: steps.map((r) => [r.step, r.clipFraction] as const) }],
  },
  {
    title: "DADS weight mean",
    series: () => [{ name: "dads weight", points: steps.map((r) => [r.step, r.dadsWeight] as const) }],
  },
  {
    title: "STCR scale",
    series: () => [{ name: "stcr scale", points: steps.map((r) => [r.step, r.stcrScale] as const) }],
  },
];
const drawCharts = () => {
  element("charts").innerHTML = charts
    .map((chart) =>
      lineChartSvg({ title: chart.title, series: chart.series(), xLabel: "step", width: 420, height: 220 }),
    )
    .join("");
};

const drawImage = (image: RawImage): HTMLCanvasElement => {
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const pixels = new ImageData(image.width, image.height);
  for (let pixel = 0; pixel < image.width * image.height; pixel++) {
    pixels.data.set(image.data.subarray(3 * pixel, 3 * pixel + 3), 4 * pixel);
    pixels.data[4 * pixel + 3] = 255;
  }
  canvas.getContext("2d")!.putImageData(pixels, 0, 0);
  return canvas;
};

const drawPanel = (entries: ReadonlyArray<PanelEntry>) => {
  const panel = element("panel");
  panel.replaceChildren(
    ...entries.map((entry) => {
      const box = document.createElement("div");
      box.className = "entry";
      const caption = document.createElement("div");
      caption.innerHTML = "";
      caption.append(
        Object.assign(document.createElement("div"), { textContent: entry.question }),
        Object.assign(document.createElement("div"), { textContent: `answer ${entry.answer}` }),
        Object.assign(document.createElement("div"), {
          textContent: `${entry.correct ? "✓" : "✗"} ${entry.response}`,
          className: entry.correct ? "right" : "wrong",
        }),
      );
      box.append(drawImage(entry.image), caption);
      return box;
    }),
  );
};

const percent = (value: number | null) => (value === null ? "n/a" : `${(100 * value).toFixed(1)}%`);

// ── run control ─────────────────────────────────────────────────────────────────────────────────
let session: TrainingSession | undefined;

const setRunning = (running: boolean) => {
  startButton.disabled = running;
  pauseButton.disabled = !running;
  for (const field of form.querySelectorAll("fieldset")) field.disabled = running || session !== undefined;
};

const reset = () => {
  session?.pause();
  session?.dispose();
  session = undefined;
  steps.length = 0;
  evaluations.length = 0;
  drawCharts();
  element("panel").replaceChildren();
  element("summary").textContent = "";
  element("progress").textContent = "idle";
  element("accuracy").textContent = "";
  element("error").textContent = "";
  downloadButton.disabled = true;
  setRunning(false);
};

const finish = (summary: PlaygroundSummary) => {
  const { metrics: _metrics, ...fields } = summary;
  if (summary.steps === summary.plannedSteps) {
    element("summary").textContent = JSON.stringify(summary, null, 2);
    element("progress").textContent = `done: ${summary.steps} steps in ${summary.wallSeconds.toFixed(1)} s`;
    log(`summary: ${JSON.stringify(fields)}`);
  } else element("progress").textContent = `paused after step ${summary.steps}/${summary.plannedSteps}`;
  downloadButton.disabled = false;
  setRunning(false);
};

const start = async () => {
  element("error").textContent = "";
  try {
    if (session === undefined) {
      const settings = formSettings();
      history.replaceState(null, "", `?${settingsQuery(settings)}`);
      const config = trainerConfigOf(settings);
      setRunning(true);
      element("progress").textContent = "choosing a backend…";
      const backend = await chooseBackend(settings.backend);
      element("backend").textContent = backend.name;
      element("backend-reason").textContent = `(${backend.reason})`;
      log(`backend ${backend.name}: ${backend.reason}`);
      element("progress").textContent = "loading the checkpoint…";
      session = new TrainingSession(config, backend.name, {
        onStep: (record) => {
          steps.push(record);
          drawCharts();
          element("progress").textContent =
            `step ${record.step}/${config.train.steps}: reward ${record.reward.toFixed(3)}, accuracy ${record.accuracy.toFixed(3)}, ${record.stepSeconds.toFixed(2)} s/step`;
        },
        onEvaluation: (record) => {
          evaluations.push(record);
          drawCharts();
          element("accuracy").textContent =
            `held-out accuracy before: ${percent(evaluations[0]?.accuracy ?? null)} · now (step ${record.step}): ${percent(record.accuracy)}`;
        },
        onPanel: drawPanel,
        onLog: log,
      });
      await session.prepare();
    }
    setRunning(true);
    finish(await session.run());
  } catch (error) {
    showError(error);
    setRunning(false);
  }
};

startButton.addEventListener("click", () => void start());
pauseButton.addEventListener("click", () => session?.pause());
resetButton.addEventListener("click", reset);
downloadButton.addEventListener("click", async () => {
  if (session === undefined) return;
  const bytes = await session.weights();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }),
  );
  link.download = "model.safetensors";
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
});

drawCharts();
if (urlSettings.autostart) void start();
