import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/portable.ts", "src/cli.ts", "src/serveCli.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/portable.ts"] },
  sourcemap: true,
  clean: true,
  target: "node20",
});
