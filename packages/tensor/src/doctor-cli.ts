#!/usr/bin/env node
// `pnpm doctor`: prints the Node version and which TensorFlow.js backends are usable here.
import { doctor } from "./doctor.js";

try {
  process.stdout.write(`${await doctor()}\n`);
} catch (error) {
  process.stderr.write(`apo-rl doctor: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
