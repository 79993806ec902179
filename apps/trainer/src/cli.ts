#!/usr/bin/env node
import { packageName } from "./index.js";

process.stdout.write(`${packageName}: not yet implemented\n`);
process.exitCode = 1;
