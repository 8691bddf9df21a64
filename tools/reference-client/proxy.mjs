// A same-origin front for the reference web client, as its Vite dev setup
// has: the built client's files, `/api/*` proxied to the game server with
// `/api` stripped, `/runtime-config` proxied unchanged. Logs every proxied
// request with its status.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const [, , distDir, listenPort, target] = process.argv;
const upstream = new URL(target);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.mp3': 'audio/mpeg', '.ico': 'image/x-icon', '.png': 'image/png' };

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const proxied = url.pathname.startsWith('/api/') || url.pathname === '/api' || url.pathname === '/runtime-config';
  if (proxied) {
    const pathOut = url.pathname.replace(/^\/api/, '') + url.search;
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: pathOut || '/', headers: { ...req.headers, host: upstream.host } }, (up) => {
      console.log(`${new Date().toISOString()} ${req.method} ${req.url} -> ${up.statusCode}`);
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    out.on('error', (e) => { console.log(`${req.method} ${req.url} -> proxy error ${e.message}`); res.writeHead(502); res.end(); });
    req.pipe(out);
    return;
  }
  let file = path.join(distDir, decodeURIComponent(url.pathname));
  if (!file.startsWith(distDir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    if (path.extname(url.pathname)) { console.log(`static 404 ${url.pathname}`); res.writeHead(404); res.end(); return; }
    file = path.join(distDir, 'index.html');
  }
  res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
}).listen(Number(listenPort), '127.0.0.1', () => console.log(`front on ${listenPort} -> ${target}`));
