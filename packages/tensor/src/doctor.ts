import type { BackendReport, CandidateReport } from "./backend/BackendReport.js";
import { initBackend } from "./backend/initBackend.js";
import { probe } from "./internal/backend/activation.js";

const statusWord: Readonly<Record<CandidateReport["status"], string>> = {
  chosen: "chosen",
  usable: "usable",
  unavailable: "not usable",
  skipped: "not tried",
};

const line = (candidate: CandidateReport, width: number): string =>
  `  ${candidate.name.padEnd(width)}  ${statusWord[candidate.status].padEnd(10)}  ${candidate.reason}`;

/**
 * The text `pnpm doctor` prints: Node version, platform, every tfjs backend with whether it is
 * installed, which one is chosen, and why each other one is not.
 *
 * @since 0.1.0
 * @category backend
 */
export const formatDoctorReport = (report: BackendReport, nodeVersion: string = process.version): string => {
  const width = Math.max(...report.candidates.map((candidate) => candidate.name.length));
  const importable = report.candidates
    .filter((candidate) => candidate.installed)
    .map((candidate) => candidate.name);
  const order = report.source === "default" ? "default order" : `from ${report.source}`;
  return [
    "apo-rl doctor",
    `  Node.js        ${nodeVersion} (${process.platform}-${process.arch})`,
    `  installed      ${importable.join(", ")}`,
    `  order          ${report.order.join(" → ")} (${order})`,
    `  chosen         ${report.chosen} (tfjs backend "${report.tfjsName}")`,
    `  added kernels  ${report.addedKernels.length > 0 ? report.addedKernels.join(", ") : "none needed"}`,
    "",
    "Backends:",
    ...report.candidates.map((candidate) => line(candidate, width)),
    "",
    "Choose another with APO_BACKEND=<name>[,<name>…] or initBackend(name); see docs/tensor-backends.md.",
  ].join("\n");
};

/** Tries a candidate that selection skipped, so the doctor can say whether it would work too. */
const tryAnyway = async (candidate: CandidateReport, chosen: CandidateReport): Promise<CandidateReport> => {
  if (candidate.status !== "skipped") return candidate;
  if (candidate.tfjsName === chosen.tfjsName)
    return {
      ...candidate,
      reason: `not tried: shares the "${candidate.tfjsName}" backend with ${chosen.name}`,
    };
  const outcome = await probe(candidate.name);
  if (!outcome.usable) return { ...candidate, status: "unavailable", reason: outcome.reason };
  return {
    ...candidate,
    status: "usable",
    usable: true,
    reason: `${outcome.detail}; ${chosen.name} comes first`,
  };
};

/**
 * Selects the backend {@link initBackend} would choose (honouring `APO_BACKEND`), then also tries
 * every candidate selection skipped, and returns the doctor text. Leaves the chosen backend active.
 *
 * @since 0.1.0
 * @category backend
 */
export const doctor = async (): Promise<string> => {
  const report = await initBackend();
  const chosen = report.candidates.find((candidate) => candidate.name === report.chosen) as CandidateReport;
  const candidates: Array<CandidateReport> = [];
  for (const candidate of report.candidates) candidates.push(await tryAnyway(candidate, chosen));
  await initBackend(report.chosen);
  return formatDoctorReport({ ...report, candidates });
};
