#!/usr/bin/env node
// `pnpm playground`: build the workspace and the playground's static bundle, then serve it on
// 127.0.0.1 and print the URL (PORT=<n> picks the port; default 5174). Ctrl-C stops it.
import { join } from "node:path";
import { servePlayground } from "./playground-server.mjs";
import { root, run } from "./workspace.mjs";

run("pnpm", ["exec", "turbo", "run", "build", "--filter=@apo-rl/playground...", "--output-logs=errors-only"]);
const { url } = await servePlayground(join(root, "apps/playground/dist"), Number(process.env.PORT ?? 5174));
console.log(`\napo-rl playground: ${url}`);
console.log(`  e.g. ${url}?objective=apo&steps=5&backend=wasm&autostart=1`);
