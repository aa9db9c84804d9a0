// A loopback static file server for the browser tests: a page's own origin,
// apart from dicomd's, so that every DICOMweb call is cross-origin (CORS).
// serveStatic(root, {overrides: {"/app-config.js": text}, fallback: "index.html"})
// resolves to {port, close}.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
  ".json": "application/json", ".wasm": "application/wasm", ".svg": "image/svg+xml", ".png": "image/png",
  ".ico": "image/x-icon", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".dcm": "application/dicom",
};

export function serveStatic(root, { overrides = {}, fallback = null } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (path in overrides) {
      res.writeHead(200, { "Content-Type": types[extname(path)] || "application/octet-stream" });
      res.end(overrides[path]);
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(normalize(root))) {
      res.writeHead(403).end();
      return;
    }
    try {
      const target = path.endsWith("/") ? join(file, "index.html") : file;
      const body = await readFile(target);
      res.writeHead(200, { "Content-Type": types[extname(target)] || "application/octet-stream" });
      res.end(body);
    } catch {
      if (fallback && !extname(path)) {  // a route of a single-page app
        res.writeHead(200, { "Content-Type": types[".html"] });
        res.end(await readFile(join(root, fallback)));
        return;
      }
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ port: server.address().port, close: () => new Promise((done) => server.close(done)) })));
}
