import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser } from './support/browser.js';
const dir = '/tmp/distprof';
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
const server = http.createServer((req, res) => {
  const p = new URL(req.url, 'http://x').pathname;
  const file = path.join(dir, p === '/' ? 'index.html' : p);
  if (!fs.existsSync(file)) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await launchBrowser();
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
const self = new Map();
for (const slug of ['pool-exhaustion', 'lock-order', 'read-skew', 'leaked-transaction']) {
  await page.goto(`${url}?lesson=${slug}`);
  await page.getByTestId('step').waitFor();
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,v8', transferMode: 'ReportEvents' });
  await page.evaluate(async () => {
    const finals = ['deadlock', 'stalled', 'failed', 'anomaly', 'completed'];
    const status = () => document.querySelector('[data-testid="status"]')?.dataset.outcome;
    const button = document.querySelector('[data-testid="step"]');
    let n = 0;
    while (!finals.includes(status()) && n++ < 100 && !button.disabled) {
      button.click();
      await new Promise((r) => setTimeout(r, 0));
      document.body.getBoundingClientRect();
    }
  });
  await cdp.send('Tracing.end');
  await done;
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  for (const e of events) {
    if (e.ph !== 'X' || !main || e.tid !== main.tid || e.pid !== main.pid) continue;
    self.set(e.name, (self.get(e.name) ?? 0) + (e.dur ?? 0) / 1000);
  }
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log('total ms', total.toFixed(0));
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(v.toFixed(1).padStart(8), k.slice(0, 150));
await browser.close(); server.close();
