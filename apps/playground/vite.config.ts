import { defineConfig } from "vite";

// A static bundle: relative asset URLs (it works from any path), the demo checkpoint and the tfjs
// .wasm binaries copied in as assets, nothing loaded from another origin.
export default defineConfig({
  base: "./",
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4096,
  },
  server: { host: "127.0.0.1", fs: { allow: ["../.."] } },
  preview: { host: "127.0.0.1" },
});
