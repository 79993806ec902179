import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/portable.ts", "src/doctor-cli.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/portable.ts"] },
  sourcemap: true,
  clean: true,
  target: "node20",
  // tfjs-core's gradient and chained-op registrations are per-file ESM with extensionless imports,
  // which Node cannot load: bundle those deep imports. `@tensorflow/tfjs-core` itself stays external,
  // and the bundled copies share its engine and registries through tfjs's global singletons.
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
