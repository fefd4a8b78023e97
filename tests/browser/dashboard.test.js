// The dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium, never a
// downloaded one) driven by playwright-core loads the plan page, sees the report's chart,
// edits the scenario (a typo: the validation message shows inline; then a PUE through the
// form: the chart changes), saves the run and finds it in the list, then opens the serving
// page and sees its result table.
//
//   GIGAWATT_URL=http://127.0.0.1:PORT node dashboard.test.js   # against a running server
//   node dashboard.test.js                                       # starts target/debug/gigawatt
//
// GIGAWATT_BIN names another binary (e.g. target/release/gigawatt); CHROMIUM names another
// Chromium. No request may leave the server's origin (no CDN).

'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const TIMEOUT_MS = 90_000;

function startServer() {
  const bin = process.env.GIGAWATT_BIN || path.join(__dirname, '..', '..', 'target', 'debug', 'gigawatt');
  if (!fs.existsSync(bin)) {
    throw new Error(`no gigawatt binary at ${bin}: run \`cargo build\` first, or set GIGAWATT_BIN or GIGAWATT_URL`);
  }
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'gigawatt-browser-data-'));
  const child = spawn(bin, ['serve', '--port', '0', '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
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

async function main() {
  const server = process.env.GIGAWATT_URL
    ? { url: process.env.GIGAWATT_URL.replace(/\/$/, ''), stop: () => {} }
    : await startServer();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gigawatt-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run'],
      timeout: 60_000,
    });
    context.setDefaultTimeout(TIMEOUT_MS);
    const page = context.pages()[0] || (await context.newPage());
    const foreign = [];
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(server.url) && !u.startsWith('about:') && !u.startsWith('data:')) foreign.push(u);
    });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));

    // 1. The plan page runs the default scenario on load and shows the report with charts.
    await page.goto(server.url + '/plan');
    const report = page.frameLocator('#report');
    await report.locator('svg.chart').first().waitFor({ state: 'attached' });
    const firstReport = await page.locator('#report').getAttribute('srcdoc');
    assert.ok(firstReport.includes('<svg'), 'the report holds SVG charts');
    console.log('ok - the plan page shows the default scenario with a chart');

    // 2. A typo in the scenario: the engine's message appears under the editor.
    const original = await page.inputValue('#scenario');
    await page.fill('#scenario', original.replace('system = "vera-rubin-nvl144"', 'system = "vera-rubin-nvl14"'));
    await page.click('#run');
    await page.locator('#messages').waitFor({ state: 'visible' });
    const message = await page.textContent('#messages');
    assert.match(message, /scenario\.toml:\d+:\d+/, 'the message has file:line:col');
    assert.match(message, /vera-rubin-nvl14/, 'the message names the bad id');
    console.log('ok - a bad system id shows the validation message inline: ' + message.split('\n')[0]);

    // 3. Fix it and change the PUE through the form; the plan reruns and the report changes.
    await page.fill('#scenario', original);
    await page.fill('#f-pue', '1.5');
    await page.click('#apply');
    const edited = await page.inputValue('#scenario');
    assert.match(edited, /^\[defaults\][\s\S]*^pue = 1\.5$/m, 'the form writes pue into [defaults]');
    await page.waitForFunction(
      (before) => { const f = document.getElementById('report'); return f.srcdoc && f.srcdoc !== before && document.getElementById('messages').hidden; },
      firstReport,
    );
    await report.locator('svg.chart').first().waitFor({ state: 'attached' });
    assert.equal(await page.locator('#messages').isHidden(), true, 'no validation message');
    console.log('ok - PUE 1.5 applied through the form; the charts were redrawn');

    // 3a. Form-first: the tranche table edits the TOML (only that line) and the plan reruns.
    const beforeForm = await page.inputValue('#scenario');
    const ramp = page.locator('#tranche-form tbody tr').first().locator('input[aria-label$="ramp months"]');
    await ramp.fill('9');
    await ramp.press('Tab');
    await page.waitForFunction((before) => document.getElementById('scenario').value !== before, beforeForm);
    const afterForm = await page.inputValue('#scenario');
    // The first tranche has no ramp of its own (the scenario's [defaults] has one): the form
    // inserts exactly one line under its [[tranche]] header and touches nothing else.
    const lines = afterForm.split('\n');
    const at = lines.indexOf('ramp_months = 9');
    assert.ok(at > 0 && /^\s*\[\[\s*tranche\s*\]\]/.test(lines[at - 1]), 'ramp_months sits under the first [[tranche]]');
    lines.splice(at, 1);
    assert.equal(lines.join('\n'), beforeForm, 'the form changed exactly one line');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'up to date' && !document.getElementById('report').classList.contains('stale'));
    // And back, so the steps below see the scenario they expect.
    await page.fill('#scenario', edited);
    await page.click('#run');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'up to date');
    console.log('ok - the tranche form wrote ramp_months = 9 into the first tranche and the plan reran');

    // 3b. Downloads: the HTML report, the monthly CSV, Markdown, the TOML and each chart's SVG.
    async function downloaded(selector) {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
      return { name: dl.suggestedFilename(), text: fs.readFileSync(await dl.path(), 'utf8') };
    }
    const html = await downloaded('#dl-html');
    assert.equal(html.name, 'plan.html');
    assert.ok(html.text.startsWith('<!doctype html>') && html.text.includes('<svg class="chart"'), 'the HTML report');
    const csv = await downloaded('#dl-csv');
    assert.match(csv.text.split('\n')[0], /^month,/, 'the CSV has a month column');
    const md = await downloaded('#dl-md');
    assert.match(md.text, /^# /m, 'Markdown');
    const toml = await downloaded('#dl-toml');
    assert.match(toml.text, /^pue = 1\.5$/m, 'the TOML is the edited scenario');
    await page.locator('#chart-downloads button').first().waitFor();
    const charts = await page.locator('#chart-downloads button[data-chart="svg"]').count();
    assert.ok(charts >= 3, `one SVG download per chart (${charts})`);
    assert.equal(await page.locator('#chart-downloads button[data-chart="png"]').count(), charts, 'and one PNG per chart');
    const svg = await downloaded('#chart-downloads button[data-chart="svg"] >> nth=0');
    assert.ok(svg.name.endsWith('.svg') && svg.text.startsWith('<svg') && svg.text.includes('xmlns="http://www.w3.org/2000/svg"'), 'a standalone SVG');
    const [pngDl] = await Promise.all([page.waitForEvent('download'), page.click('#chart-downloads button[data-chart="png"] >> nth=0')]);
    const png = fs.readFileSync(await pngDl.path());
    assert.ok(pngDl.suggestedFilename().endsWith('.png') && png.subarray(1, 4).toString() === 'PNG' && png.length > 1000, 'a PNG picture');
    console.log(`ok - downloads: HTML, CSV, Markdown, TOML and ${charts} charts as SVG and PNG`);

    // 3c. The share link holds the unsaved scenario: it reopens the same text in a new tab.
    await page.waitForFunction(() => document.getElementById('share').href.includes('#s='));
    const shareUrl = await page.getAttribute('#share', 'href');
    const shared = await context.newPage();
    await shared.goto(shareUrl);
    await shared.waitForFunction(() => document.getElementById('status').textContent === 'up to date');
    assert.equal(await shared.inputValue('#scenario'), edited, 'the shared link reopens the same scenario');
    await shared.close();
    // A link made before share links carried every field (the scenario text alone, 'p' + base64url).
    const legacy = 'p' + Buffer.from(edited).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const old = await context.newPage();
    await old.goto(server.url + '/plan#s=' + legacy);
    await old.waitForFunction(() => document.getElementById('status').textContent === 'up to date');
    assert.equal(await old.inputValue('#scenario'), edited, 'an old share link still opens');
    await old.close();
    console.log('ok - the share link reopens the unsaved scenario (' + shareUrl.length + ' characters); old links still open');

    // 3d. A bad edit dims the results and marks the error's line in the editor's gutter.
    await page.fill('#scenario', edited.replace('pue = 1.5', 'pue = "x"'));
    await page.click('#run');
    await page.locator('#messages').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#report.stale').count(), 1, 'the stale report is dimmed');
    const errLine = await page.locator('.editor .gutter span.err').textContent();
    assert.match(await page.textContent('#messages'), new RegExp('scenario\\.toml:' + errLine + ':'), 'the marked line is the cited one');
    await page.fill('#scenario', edited);
    await page.click('#run');
    await page.waitForFunction(() => document.getElementById('messages').hidden && !document.getElementById('report').classList.contains('stale'));
    console.log('ok - an error dims the report and marks line ' + errLine + ' in the gutter');

    // 4. Save the run, follow the link, and find it in the list.
    const name = 'browser test ' + Date.now();
    await page.fill('#run-name', name);
    await page.click('#save');
    const link = page.locator('#saved-link');
    await link.waitFor();
    const href = await link.getAttribute('href');
    assert.match(href, /^\/runs\/\d+$/);
    await link.click();
    await page.waitForURL('**' + href);
    assert.ok((await page.textContent('h1')).includes(name), 'the run page names the run');
    assert.match(await page.textContent('#reproduces'), /yes/);
    await page.goto(server.url + '/runs');
    const row = page.locator('#runs tr', { hasText: name });
    await row.waitFor();
    assert.equal(await row.count(), 1, 'the saved run is listed once');
    console.log('ok - saved as ' + href + ' and listed on /runs');

    // 4b. Compare: a run's "Compare…" preselects it and the latest other run of its kind.
    await page.goto(server.url + '/plan?scenario=openai-portfolio');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'up to date');
    await page.fill('#run-name', name + ' (second)');
    await page.click('#save');
    const second = await page.locator('#saved-link').getAttribute('href');
    await page.goto(server.url + href);
    await page.click('text=Compare…');
    await page.waitForURL('**/runs?a=' + href.split('/').pop());
    const a = await page.inputValue('#cmp-a');
    const b = await page.inputValue('#cmp-b');
    assert.equal('/runs/' + a, href, 'A is the run');
    assert.equal('/runs/' + b, second, 'B is the other plan run, not the run itself');
    await page.click('form[action="/runs/compare"] button');
    await page.waitForURL('**/runs/compare?**');
    assert.ok((await page.textContent('h1')).length > 0);
    console.log('ok - Compare… pairs run ' + a + ' with run ' + b + ' (both plans)');

    // 5. The serving page runs its example spec on load and shows the result table.
    await page.goto(server.url + '/infer');
    const inferRow = page.locator('#result #infer-table tr', { hasText: 'fp8' });
    await inferRow.first().waitFor({ timeout: 10_000 });
    assert.equal((await inferRow.first().locator('td').first().textContent()).trim(), '4', 'the row is the spec\'s tp 4 layout');
    console.log('ok - /infer shows the example spec\'s result table');

    assert.deepEqual(pageErrors, [], 'no script errors');
    assert.deepEqual(foreign, [], 'no requests beyond the server (no CDN)');
    console.log('ok - no script errors, no requests off the server');
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    server.stop();
  }
}

main().then(
  () => { console.log('browser: 1 passed, 0 failed'); process.exit(0); },
  (e) => { console.error('browser test FAILED:', e && e.stack ? e.stack : e); console.log('browser: 0 passed, 1 failed'); process.exit(1); },
);
