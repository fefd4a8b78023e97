// Every report and dashboard page in a real browser at 1,280 px (issue 18): headless Chromium
// (Debian's /usr/bin/chromium) driven by playwright-core, with axe-core injected into each page.
// Saved-run pages (a plan run, a training run, a comparison of each kind) are seeded through the
// API first, and every folded section (data tables, assumptions, timelines) is opened before
// the checks, so what unfolds must fit too. For each page:
//   - no horizontal overflow outside an explicit scroll frame (an element with overflow-x auto
//     or scroll, such as .table-wrap);
//   - no id or date broken mid-word: every run of non-space characters of four or more in a
//     table cell, code, a heading or a legend sits on one line;
//   - chart text at least 10 CSS px (SVG font size times the chart's on-screen scale);
//   - axe-core reports no serious or critical violation, in the light and the dark scheme.
//
//   node surfaces.test.js            # builds the reports with target/debug/gigawatt, starts it
// GIGAWATT_BIN names another binary; CHROMIUM another Chromium.

'use strict';

const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = process.env.GIGAWATT_BIN || path.join(__dirname, '..', '..', 'target', 'debug', 'gigawatt');
const WIDTH = 1280;

// The reports: what `gigawatt` writes with --format html.
const REPORTS = [
  ['plan-10gw.html', ['plan']],
  ['plan-portfolio.html', ['plan', 'openai-portfolio']],
  ['plan-quick-h100.html', ['plan', '--system', 'dgx-h100', '--systems', '100']],
  ['risk.html', ['risk', '--samples', '2000']],
  ['fleet.html', ['infer', 'fleet', 'openai-portfolio', '--model', 'llama3-70b', '--input-tokens', '2000',
    '--output-tokens', '500', '--tpot-slo-s', '0.05']],
  ['train-validation.html', ['train', 'validate']],
];

// The dashboard's pages, and what each one shows once its first result is in.
const PAGES = [
  ['/plan', '#report'],
  ['/train', 'main'],
  ['/train/validation', 'main svg.chart'],
  ['/infer', 'main'],
  ['/fleet', '#report'],
  ['/reliability', 'main'],
  ['/risk', 'main'],
  ['/catalog', 'main'],
  ['/runs', 'main'],
  // Saved runs (seeded below): a plan run, a training run, and a comparison of each kind.
  ['/runs/1', '#report'],
  ['/runs/3', 'main svg.chart'],
  ['/runs/compare?a=1&b=2', '#compare-chart'],
  ['/runs/compare?a=3&b=4', '#outputs'],
];

// Two plan runs and two training runs, saved through the API from the pages' own inputs.
async function seedRuns(page, base) {
  await page.goto(base + '/plan?scenario=openai-portfolio');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'up to date');
  const planText = await page.inputValue('#scenario');
  await page.goto(base + '/train');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'up to date');
  const trainText = await page.inputValue('#spec');
  const ids = await page.evaluate(async ([plan, train]) => {
    const save = async (kind, input, name) => {
      const r = await fetch('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind, input, name }) });
      if (!r.ok) throw new Error(kind + ': ' + r.status + ' ' + await r.text());
      return (await r.json()).run.id;
    };
    return [
      await save('plan', plan, 'portfolio'),
      await save('plan', plan.replace(/^name = .*$/m, 'name = "portfolio, PUE 1.4"') + '\n', 'portfolio edited'),
      await save('train', train, 'gpt3 64 GPUs'),
      await save('train', train.replace('gpus = 64', 'gpus = 128'), 'gpt3 128 GPUs'),
    ];
  }, [planText, trainText]);
  assert.deepEqual(ids, [1, 2, 3, 4], 'runs 1-4 seeded');
}

function startServer() {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'gigawatt-surfaces-data-'));
  const child = spawn(BIN, ['serve', '--port', '0', '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('the server did not print its address in 60 s')), 60_000);
    child.stderr.on('data', (chunk) => {
      buffered += chunk.toString();
      // Only a whole line: stderr may arrive in pieces, and "http://127" alone is a valid URL.
      const m = buffered.match(/listening on (http:\/\/\S+)\r?\n/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop: () => { child.kill('SIGTERM'); fs.rmSync(data, { recursive: true, force: true }); } });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited with ${code}: ${buffered}`)); });
  });
}

// Runs in the page: the layout checks. Returns a list of problems (strings).
function layoutProblems() {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const scrollFrame = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  };
  if (document.documentElement.scrollWidth > vw + 1) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px wide in a ${vw} px window`);
  }
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > vw + 1 && !scrollFrame(el)) {
      problems.push(`<${el.tagName.toLowerCase()} class="${el.className && el.className.baseVal !== undefined ? el.className.baseVal : el.className}"> reaches ${Math.round(r.right)} px, outside a scroll frame`);
      if (problems.length > 5) break;
    }
  }
  // Words broken across lines: runs of 4+ non-space characters in cells, code, headings,
  // legends and labels must sit on one line.
  const holders = document.querySelectorAll('td, th, code, h1, h2, h3, dd, dt, li, label, summary, .badge, .card .value');
  const range = document.createRange();
  let checked = 0;
  for (const holder of holders) {
    const walker = document.createTreeWalker(holder, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('svg, script, style, [hidden]')) continue;
      const text = node.textContent;
      const re = /\S{4,}/g;
      let m;
      while ((m = re.exec(text))) {
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
        if (rects.length === 0) continue;
        checked++;
        const tops = new Set(rects.map((r) => Math.round(r.top)));
        const lines = Array.from(tops).sort((a, b) => a - b);
        if (lines.length > 1 && lines[lines.length - 1] - lines[0] > rects[0].height / 2) {
          problems.push(`"${m[0]}" breaks across lines in <${holder.tagName.toLowerCase()}>`);
          if (problems.length > 12) return problems;
        }
      }
    }
  }
  // Chart text: the SVG font size times the chart's scale on screen.
  for (const text of document.querySelectorAll('svg text')) {
    const r = text.getBoundingClientRect();
    if (r.width === 0 || !text.textContent.trim()) continue;
    const ctm = text.getScreenCTM();
    const size = parseFloat(getComputedStyle(text).fontSize) * Math.hypot(ctm.a, ctm.b);
    if (size < 9.95) {
      problems.push(`chart text "${text.textContent.trim().slice(0, 30)}" is ${size.toFixed(1)} px`);
      if (problems.length > 20) return problems;
    }
  }
  return problems;
}

async function axeProblems(page) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}x, e.g. ${v.nodes[0].target.join(' ')})`);
  });
  return result;
}

async function audit(page, name, failures) {
  // Folded sections (data tables, assumptions, timelines) must fit too: open them all.
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
  const problems = await page.evaluate(layoutProblems);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const p of await axeProblems(page)) problems.push(`axe (${scheme}): ${p}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  if (problems.length) {
    failures.push(`${name}:\n    ${problems.join('\n    ')}`);
    console.log(`not ok - ${name}\n    ${problems.join('\n    ')}`);
  } else {
    console.log(`ok - ${name}: no overflow, no broken words, chart text >= 10 px, no serious axe violation`);
  }
}

async function main() {
  if (!fs.existsSync(BIN)) throw new Error(`no gigawatt binary at ${BIN}: run \`cargo build\` first, or set GIGAWATT_BIN`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gigawatt-reports-'));
  for (const [file, args] of REPORTS) {
    execFileSync(BIN, [...args, '--format', 'html', '--out', path.join(dir, file)], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const only = process.env.ONLY;
  const server = await startServer();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gigawatt-chromium-'));
  const failures = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      viewport: { width: WIDTH, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run'],
      timeout: 60_000,
    });
    context.setDefaultTimeout(90_000);
    const page = context.pages()[0] || (await context.newPage());
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    for (const [file] of REPORTS) {
      if (only && !file.includes(only)) continue;
      await page.goto('file://' + path.join(dir, file));
      await audit(page, `report ${file}`, failures);
    }
    await seedRuns(page, server.url);
    for (const [route, ready] of PAGES) {
      if (only && !route.includes(only)) continue;
      await page.goto(server.url + route);
      await page.locator(ready).first().waitFor({ state: 'attached' });
      await page.waitForLoadState('networkidle');
      await audit(page, `page ${route}`, failures);
    }
    assert.deepEqual(pageErrors, [], 'no script errors');
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    server.stop();
  }
  assert.deepEqual(failures, [], `${failures.length} page(s) fail`);
}

main().then(
  () => { console.log('surfaces: passed'); process.exit(0); },
  (e) => { console.error('surfaces test FAILED:', e && e.message ? e.message : e); process.exit(1); },
);
