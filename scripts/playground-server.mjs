// A static file server for the playground's production bundle (apps/playground/dist), on loopback
// only. Shared by `pnpm playground` and the browser test.
import { readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Serve `directory` on 127.0.0.1:`port` (0: any free port); resolves to `{ url, close }`. */
export const servePlayground = (directory, port = 0) =>
  new Promise((resolve, reject) => {
    const server = createServer(async (request, response) => {
      const path = decodeURIComponent(new URL(request.url ?? "/", "http://127.0.0.1").pathname);
      const file = normalize(join(directory, path.endsWith("/") ? `${path}index.html` : path));
      if (file !== directory && !file.startsWith(`${directory}${sep}`)) {
        response.writeHead(403).end("outside the bundle");
        return;
      }
      try {
        if (!(await stat(file)).isFile()) throw new Error("not a file");
        response.writeHead(200, {
          "content-type": types[extname(file)] ?? "application/octet-stream",
          "cache-control": "no-store",
        });
        response.end(await readFile(file));
      } catch {
        response.writeHead(404).end("not found");
      }
    });
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      resolve({
        url: `http://127.0.0.1:${address.port}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
