// A browser test per dashboard flow (issue 18), in headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core against `gigawatt serve --port 0`:
//   train, infer, reliability, risk, fleet: edit through the form -> run -> download every
//   format the page offers (HTML, JSON or CSV, the input TOML, SVG and PNG of each chart) ->
//   the share URL reopens the same inputs in a new tab;
//   compare two training runs (a run's "Compare…" pairs it with the other run of its kind);
//   print mode: folded sections print expanded and links print their targets, on a dashboard
//   page and a report.
// (The plan flow is dashboard.test.js.)
//
//   node flows.test.js           # starts target/debug/gigawatt; GIGAWATT_BIN / CHROMIUM override

'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const BIN = process.env.GIGAWATT_BIN || path.join(__dirname, '..', '..', 'target', 'debug', 'gigawatt');

function startServer() {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'gigawatt-flows-data-'));
  const child = spawn(BIN, ['serve', '--port', '0', '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('the server did not print its address in 60 s')), 60_000);
    child.stderr.on('data', (chunk) => {
      buffered += chunk.toString();
      const m = buffered.match(/listening on (http:\/\/\S+)\r?\n/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop: () => { child.kill('SIGTERM'); fs.rmSync(data, { recursive: true, force: true }); } });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited with ${code}: ${buffered}`)); });
  });
}

const upToDate = () => document.getElementById('status').textContent === 'up to date'
  && !document.querySelector('.stale');

async function downloaded(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const bytes = fs.readFileSync(await dl.path());
  return { name: dl.suggestedFilename(), bytes, text: bytes.toString('utf8') };
}

// Every chart's SVG and PNG download: a standalone SVG, and a PNG file (its signature).
async function chartFiles(page) {
  const buttons = page.locator('#chart-downloads button');
  await buttons.first().waitFor();
  const n = await buttons.count();
  let svgs = 0, pngs = 0;
  for (let i = 0; i < n; i++) {
    const kind = await buttons.nth(i).getAttribute('data-chart');
    const file = await downloaded(page, `#chart-downloads button >> nth=${i}`);
    if (kind === 'svg') {
      assert.ok(file.name.endsWith('.svg') && file.text.startsWith('<svg') && file.text.includes('xmlns="http://www.w3.org/2000/svg"'), `standalone SVG ${file.name}`);
      svgs++;
    } else {
      assert.ok(file.name.endsWith('.png'), file.name);
      assert.deepEqual([...file.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `PNG signature of ${file.name}`);
      assert.ok(file.bytes.length > 1000, `${file.name} has a picture (${file.bytes.length} bytes)`);
      pngs++;
    }
  }
  assert.ok(svgs >= 1 && svgs === pngs, `an SVG and a PNG per chart (${svgs} SVG, ${pngs} PNG)`);
  return svgs;
}

// The share link reopens the same inputs: the editor's text and each listed field.
async function shareReopens(context, page, fields) {
  await page.waitForFunction(() => document.getElementById('share').href.includes('#s='));
  const url = await page.getAttribute('#share', 'href');
  const editor = await page.locator('textarea[data-editor]').count();
  const text = editor ? await page.inputValue('textarea[data-editor]') : null;
  const values = {};
  for (const f of fields) values[f] = await page.inputValue(f);
  const other = await context.newPage();
  await other.goto(url);
  await other.waitForFunction(upToDate);
  if (editor) assert.equal(await other.inputValue('textarea[data-editor]'), text, 'the same TOML');
  for (const f of fields) assert.equal(await other.inputValue(f), values[f], `the same ${f}`);
  await other.close();
  return url.length;
}

async function trainFlow(context, page, base) {
  await page.goto(base + '/train');
  await page.waitForFunction(upToDate);
  // The form shows the spec's values.
  assert.equal(await page.inputValue('[data-toml="cluster.gpus"]'), '64');
  assert.equal(await page.inputValue('[data-toml="model"]'), 'gpt3-175b');
  const before = await page.innerHTML('#result');
  // Form edit -> the TOML follows (one line) -> the result is rerun.
  const spec = await page.inputValue('#spec');
  await page.fill('[data-toml="cluster.gpus"]', '128');
  await page.press('[data-toml="cluster.gpus"]', 'Tab');
  await page.waitForFunction(() => /^gpus = 128$/m.test(document.getElementById('spec').value));
  assert.equal(await page.inputValue('#spec'), spec.replace('gpus = 64', 'gpus = 128'), 'only that line changed');
  await page.waitForFunction((b) => document.getElementById('status').textContent === 'up to date'
    && document.getElementById('result').innerHTML !== b, before);
  // The TOML -> the form.
  await page.click('#toml-details > summary');
  await page.fill('#spec', (await page.inputValue('#spec')).replace('tp = 8', 'tp = 4').replace('pp = 8', 'pp = 16'));
  await page.waitForFunction(() => document.querySelector('[data-toml="parallelism.tp"]').value === '4');
  await page.waitForFunction(upToDate);
  // The chart has its data table.
  assert.ok(await page.locator('#result details.data-table table tr').count() > 5, 'the step chart has a data table');
  const html = await downloaded(page, '#dl-html');
  assert.ok(html.text.startsWith('<!doctype html>') && html.text.includes('<svg class="chart"'), 'the HTML result');
  const json = JSON.parse((await downloaded(page, '#dl-json')).text);
  assert.ok(json.step_time_s > 0 && json.gpus === 128, 'the JSON result');
  const toml = await downloaded(page, '#dl-toml');
  assert.match(toml.text, /^gpus = 128$/m);
  const charts = await chartFiles(page);
  const len = await shareReopens(context, page, ['[data-toml="cluster.gpus"]', '[data-toml="parallelism.tp"]']);
  // A bad value: the TOML opens, the line is marked, the result dims.
  await page.fill('#spec', (await page.inputValue('#spec')).replace('gpus = 128', 'gpus = "many"'));
  await page.locator('#messages').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#toml-details[open]').count(), 1, 'the TOML opens on an error');
  assert.equal(await page.locator('#result.stale').count(), 1, 'the stale result is dimmed');
  const errLine = await page.locator('.editor .gutter span.err').textContent();
  assert.match(await page.textContent('#messages'), new RegExp('spec\\.toml:' + errLine + ':'));
  await page.fill('#spec', (await page.inputValue('#spec')).replace('gpus = "many"', 'gpus = 128'));
  await page.waitForFunction(upToDate);
  // The layout search: the fastest layouts, and how close two must be to be a tie.
  await page.fill('#s-gpus', '64');
  await page.fill('#s-batch', '64');
  await page.click('#search');
  await page.locator('#search-result table tr').nth(1).waitFor();
  const found = await page.locator('#search-result table tr').count() - 1;
  assert.ok(found >= 1, 'the search lists layouts');
  assert.match(await page.textContent('#search-result'), /Step times are typically within ±\d+\.\d%.*a tie/);
  // The model's accuracy is one link away.
  await page.click('a[href="/train/validation"]');
  await page.locator('svg.chart circle').first().waitFor();
  const dots = await page.locator('svg.chart circle').count();
  assert.ok(dots > 200, 'the validation page charts every compared run');
  console.log(`ok - train: form edit, TOML both ways, HTML/JSON/TOML and ${charts} chart(s) as SVG+PNG, share link (${len} chars), error line ${errLine} marked, search (${found} layouts, the tie margin), validation page (${dots} runs)`);
}

async function compareTrainRuns(page, base) {
  await page.goto(base + '/train');
  await page.waitForFunction(upToDate);
  const save = async (name) => {
    await page.fill('#run-name', name);
    await page.click('#save');
    const link = page.locator('#saved-link');
    await link.waitFor();
    const href = await link.getAttribute('href');
    await page.evaluate(() => { document.getElementById('saved').textContent = ''; });
    return href;
  };
  const first = await save('train 64 GPUs');
  await page.fill('[data-toml="cluster.gpus"]', '128');
  await page.press('[data-toml="cluster.gpus"]', 'Tab');
  await page.waitForFunction(() => /^gpus = 128$/m.test(document.getElementById('spec').value));
  await page.waitForFunction(upToDate);
  const second = await save('train 128 GPUs');
  // A plan run in between must not be picked as the partner.
  await page.goto(base + '/plan');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'up to date');
  await page.fill('#run-name', 'a plan');
  await page.click('#save');
  await page.locator('#saved-link').waitFor();
  await page.goto(base + first);
  await page.click('text=Compare…');
  assert.equal('/runs/' + await page.inputValue('#cmp-a'), first);
  assert.equal('/runs/' + await page.inputValue('#cmp-b'), second, 'B is the other training run');
  await page.click('form[action="/runs/compare"] button');
  await page.waitForURL('**/runs/compare?**');
  const rows = await page.locator('#outputs tr').count();
  assert.ok(rows > 3, 'key outputs compared');
  assert.match(await page.textContent('#diff'), /- gpus = 64[\s\S]*\+ gpus = 128/, 'the input diff');
  console.log(`ok - compare: two training runs paired by kind, ${rows - 1} outputs and the input diff`);
}

async function inferFlow(context, page, base) {
  await page.goto(base + '/infer');
  await page.waitForFunction(upToDate);
  assert.equal(await page.inputValue('[data-toml="serving.tp"]'), '4');
  await page.fill('[data-toml="serving.tp"]', '8');
  await page.press('[data-toml="serving.tp"]', 'Tab');
  await page.waitForFunction(() => /^tp = 8$/m.test(document.getElementById('spec').value));
  await page.waitForFunction(upToDate);
  await page.waitForFunction(() => document.querySelector('#infer-table tr:nth-child(2) td').textContent.trim() === '8');
  await page.selectOption('[data-toml="serving.mode"]', 'offline');
  await page.waitForFunction(() => /^mode = "offline"$/m.test(document.getElementById('spec').value));
  await page.waitForFunction(upToDate);
  const html = await downloaded(page, '#dl-html');
  assert.ok(html.text.startsWith('<!doctype html>') && html.text.includes('infer-table'));
  const json = JSON.parse((await downloaded(page, '#dl-json')).text);
  assert.ok(JSON.stringify(json).includes('output_tokens_per_s'), 'the JSON result');
  assert.match((await downloaded(page, '#dl-toml')).text, /^tp = 8$/m);
  const charts = await chartFiles(page);
  const len = await shareReopens(context, page, ['[data-toml="serving.tp"]', '[data-toml="serving.mode"]']);
  console.log(`ok - infer: form edit (tp 8, offline), HTML/JSON/TOML and ${charts} chart(s) as SVG+PNG, share link (${len} chars)`);
}

async function reliabilityFlow(context, page, base) {
  await page.goto(base + '/reliability');
  await page.waitForFunction(upToDate);
  await page.fill('#r-gpus', '8192');
  await page.fill('#r-runs', '5');
  await page.click('#run');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'up to date'
    && document.getElementById('result').textContent.includes('8,192 accelerators'));
  const html = await downloaded(page, '#dl-html');
  assert.ok(html.text.startsWith('<!doctype html>') && html.text.includes('wall-clock'));
  const json = JSON.parse((await downloaded(page, '#dl-json')).text);
  assert.equal(json.inputs.gpus, 8192);
  const len = await shareReopens(context, page, ['#r-gpus', '#r-runs']);
  console.log(`ok - reliability: form edit (8,192 accelerators, 5 runs), HTML/JSON, share link (${len} chars)`);
}

async function riskFlow(context, page, base) {
  await page.goto(base + '/risk');
  await page.waitForFunction(upToDate);
  await page.fill('#k-samples', '500');
  await page.fill('#k-gw', '5');
  await page.fill('#k-by', '2028-12');
  await page.click('#run');
  await page.waitForFunction(() => {
    const f = document.getElementById('report');
    // The options reached the run: 500 samples and the P(>= 5 GW by 2028-12) card.
    return document.getElementById('status').textContent === 'up to date'
      && / of 500 samples/.test(f.srcdoc) && f.srcdoc.includes('by 2028-12');
  });
  await page.frameLocator('#report').locator('svg.chart').first().waitFor({ state: 'attached' });
  const html = await downloaded(page, '#dl-html');
  assert.ok(html.text.startsWith('<!doctype html>') && html.text.includes('<svg class="chart"'));
  const csv = await downloaded(page, '#dl-csv');
  assert.ok(csv.text.split('\n').length > 2, 'the CSV');
  assert.match((await downloaded(page, '#dl-toml')).text, /\[\[deal\]\]/);
  const charts = await chartFiles(page);
  const len = await shareReopens(context, page, ['#k-samples', '#k-gw', '#k-by']);
  console.log(`ok - risk: options edited, HTML/CSV/TOML and ${charts} chart(s) as SVG+PNG, share link (${len} chars)`);
}

async function fleetFlow(context, page, base) {
  await page.goto(base + '/fleet');
  await page.waitForFunction(upToDate);
  const before = await page.getAttribute('#report', 'srcdoc');
  await page.fill('#q-out', '300');
  await page.press('#q-out', 'Tab');
  await page.waitForFunction((b) => document.getElementById('status').textContent === 'up to date'
    && document.getElementById('report').srcdoc !== b, before);
  await page.frameLocator('#report').locator('svg.chart').first().waitFor({ state: 'attached' });
  const html = await downloaded(page, '#dl-html');
  assert.ok(html.text.startsWith('<!doctype html>'));
  assert.match((await downloaded(page, '#dl-csv')).text.split('\n')[0], /^month,/);
  const charts = await chartFiles(page);
  const len = await shareReopens(context, page, ['#q-out', '#q-model', '#q-scenario']);
  console.log(`ok - fleet: question edited, HTML/CSV and ${charts} chart(s) as SVG+PNG, share link (${len} chars)`);
}

// Print: every folded section's content is laid out, and links print their targets.
function printProblems() {
  const problems = [];
  for (const d of document.querySelectorAll('details')) {
    const inside = Array.from(d.children).filter((c) => c.tagName !== 'SUMMARY');
    for (const c of inside) {
      if (c.getClientRects().length === 0 || c.getBoundingClientRect().height === 0) {
        problems.push('a folded section does not print: ' + (d.querySelector('summary') || {}).textContent);
        break;
      }
    }
  }
  const links = Array.from(document.querySelectorAll('main a[href^="http"], .wrap a[href^="http"], main a[href^="/"]'));
  for (const a of links.slice(0, 20)) {
    const after = getComputedStyle(a, '::after').content;
    if (!after.includes(a.getAttribute('href'))) problems.push('a link prints without its target: ' + a.getAttribute('href'));
  }
  if (links.length === 0) problems.push('no link to check');
  const top = document.querySelector('header.top');
  if (top && getComputedStyle(top).display !== 'none') problems.push('the navigation bar prints');
  return problems.slice(0, 10);
}

async function printMode(page, base) {
  for (const route of ['/catalog', '/train']) {
    await page.goto(base + route);
    if (route === '/train') await page.waitForFunction(upToDate);
    await page.emulateMedia({ media: 'print' });
    const problems = await page.evaluate(printProblems);
    await page.emulateMedia({ media: 'screen' });
    assert.deepEqual(problems, [], `print ${route}`);
  }
  // A report, as the dashboard's HTML download gives it.
  await page.goto(base + '/plan');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'up to date');
  const report = await downloaded(page, '#dl-html');
  const file = path.join(os.tmpdir(), 'gigawatt-print-' + process.pid + '.html');
  fs.writeFileSync(file, report.bytes);
  await page.goto('file://' + file);
  await page.emulateMedia({ media: 'print' });
  const problems = await page.evaluate(printProblems);
  await page.emulateMedia({ media: 'screen' });
  fs.rmSync(file, { force: true });
  assert.deepEqual(problems, [], 'print the plan report');
  console.log('ok - print: folded sections print expanded and links print their targets (/catalog, /train, the plan report)');
}

async function main() {
  if (!fs.existsSync(BIN)) throw new Error(`no gigawatt binary at ${BIN}: run \`cargo build\` first, or set GIGAWATT_BIN`);
  const server = await startServer();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gigawatt-chromium-'));
  let context;
  let passed = 0;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run'],
      timeout: 60_000,
    });
    context.setDefaultTimeout(90_000);
    const page = context.pages()[0] || (await context.newPage());
    const pageErrors = [];
    const foreign = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    context.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(server.url) && !/^(about|data|blob|file):/.test(u)) foreign.push(u);
    });
    const only = process.env.ONLY;
    for (const [name, flow] of [
      ['train', () => trainFlow(context, page, server.url)],
      ['compare', () => compareTrainRuns(page, server.url)],
      ['infer', () => inferFlow(context, page, server.url)],
      ['reliability', () => reliabilityFlow(context, page, server.url)],
      ['risk', () => riskFlow(context, page, server.url)],
      ['fleet', () => fleetFlow(context, page, server.url)],
      ['print', () => printMode(page, server.url)],
    ]) {
      if (only && name !== only) continue;
      await flow();
      passed++;
    }
    assert.deepEqual(pageErrors, [], 'no script errors');
    assert.deepEqual(foreign, [], 'no requests beyond the server');
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    server.stop();
  }
  return passed;
}

main().then(
  (n) => { console.log(`flows: ${n} passed, 0 failed`); process.exit(0); },
  (e) => { console.error('flows test FAILED:', e && e.stack ? e.stack : e); console.log('flows: 0 passed, 1 failed'); process.exit(1); },
);
