import { describe, expect, it } from "vitest";
import { type BackendReport, doctor, formatDoctorReport } from "../src/index.js";

const report: BackendReport = {
  chosen: "wasm",
  tfjsName: "wasm",
  order: ["tfjs-node", "wasm", "cpu"],
  source: "APO_BACKEND",
  addedKernels: ["UnsortedSegmentSum"],
  candidates: [
    {
      name: "tfjs-node",
      tfjsName: "tensorflow",
      packages: ["@tensorflow/tfjs-node"],
      installed: false,
      status: "unavailable",
      usable: false,
      reason: "@tensorflow/tfjs-node not installed",
    },
    {
      name: "wasm",
      tfjsName: "wasm",
      packages: ["@tensorflow/tfjs-backend-wasm"],
      installed: true,
      status: "chosen",
      usable: true,
      reason: "WebAssembly",
    },
    {
      name: "cpu",
      tfjsName: "cpu",
      packages: ["@tensorflow/tfjs-backend-cpu"],
      installed: true,
      status: "skipped",
      usable: false,
      reason: "not tried: wasm comes first in the order",
    },
  ],
};

describe("doctor", () => {
  it("formats the Node version, the order, the choice and one line per backend", () => {
    const text = formatDoctorReport(report, "v20.1.0");
    expect(text.split("\n")).toEqual([
      "apo-rl doctor",
      `  Node.js        v20.1.0 (${process.platform}-${process.arch})`,
      "  installed      wasm, cpu",
      "  order          tfjs-node → wasm → cpu (from APO_BACKEND)",
      '  chosen         wasm (tfjs backend "wasm")',
      "  added kernels  UnsortedSegmentSum",
      "",
      "Backends:",
      "  tfjs-node  not usable  @tensorflow/tfjs-node not installed",
      "  wasm       chosen      WebAssembly",
      "  cpu        not tried   not tried: wasm comes first in the order",
      "",
      "Choose another with APO_BACKEND=<name>[,<name>…] or initBackend(name); see docs/tensor-backends.md.",
    ]);
  });

  it("tries the backends selection skipped, so cpu is reported usable here", async () => {
    const text = await doctor();
    expect(text).toContain(`Node.js        ${process.version}`);
    expect(text).toMatch(
      / {2}tfjs-node-gpu {2}not usable {2}@tensorflow\/tfjs-node-gpu not installed; needs .*CUDA 11\.2 \+ cuDNN 8\.1/,
    );
    expect(text).toMatch(/ {2}cpu {12}usable {6}plain JavaScript kernels; (wasm|webgpu) comes first/);
  });
});
