// Lint every publishable package's manifest and build output with publint (exports, types, files).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { workspacePackages } from "./workspace.mjs";

let failures = 0;
for (const { dir, manifest } of workspacePackages()) {
  if (manifest.private) continue;
  const { messages } = await publint({ pkgDir: dir, level: "warning", strict: true });
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  for (const message of messages)
    console.log(`${manifest.name}: ${message.type}: ${formatMessage(message, pkg)}`);
  failures += messages.length;
  if (messages.length === 0) console.log(`${manifest.name}: publint clean`);
}
if (failures > 0) {
  console.error(`publint: ${failures} problem(s)`);
  process.exit(1);
}
