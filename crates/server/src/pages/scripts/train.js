let seq = 0, timer = null;
function specBody() { return {input: $('spec').value, origin: 'spec.toml'}; }
// An error in the TOML opens the TOML (the form cannot show which line is wrong).
function showSpecError(msg) { showError(msg); if (/\.toml:\d+/.test(msg)) $('toml-details').open = true; }
async function runTrain() {
  const mine = ++seq;
  markStale(true);
  $('status').textContent = 'running…';
  const r = await postJson('/api/train?format=html', specBody());
  if (mine !== seq) return;
  if (!r.ok) { showSpecError(await errorText(r)); $('status').textContent = 'not run: fix the spec (the result shown is for the last good input)'; return; }
  showError('');
  $('result').innerHTML = await r.text();
  chartDownloads($('result'));
  markStale(false);
  $('status').textContent = 'up to date';
  shareState();
}
function rerunSoon() { clearTimeout(timer); timer = setTimeout(runTrain, 500); }
async function saveTrain() {
  const name = $('run-name').value.trim();
  const r = await postJson('/api/runs', {kind: 'train', input: $('spec').value, origin: 'spec.toml', name: name || undefined});
  if (!r.ok) { showError(await errorText(r)); return; }
  showError(''); savedLink(await r.json());
}
async function search() {
  const f = (id) => $(id).value;
  const body = {model: f('s-model'), system: f('s-system'), gpus: Number(f('s-gpus')), global_batch: Number(f('s-batch')),
    seq_len: Number(f('s-seq')), precision: f('s-precision'), top: Number(f('s-top'))};
  const out = $('search-result'); out.textContent = 'searching…';
  const r = await postJson('/api/train/search', body);
  if (!r.ok) { out.textContent = ''; showError(await errorText(r)); return; }
  showError('');
  const j = await r.json();
  out.textContent = '';
  const p = document.createElement('p');
  p.textContent = j.evaluated + ' layouts evaluated, ' + j.feasible + ' fit.'; out.append(p);
  const wrap = document.createElement('div'); wrap.className = 'table-wrap'; wrap.tabIndex = 0;
  wrap.setAttribute('role', 'region'); wrap.setAttribute('aria-label', 'Layouts found');
  const t = document.createElement('table');
  const head = ['tp', 'pp', 'dp', 'cp', 'ep', 'vpp', 'mb', 'recompute', 'zero', 'step s', 'MFU', 'mem GiB'];
  const tr = document.createElement('tr');
  for (const h of head) { const th = document.createElement('th'); th.textContent = h; tr.append(th); }
  t.append(tr);
  for (const x of j.top) {
    const s = x.strategy;
    const row = document.createElement('tr');
    for (const v of [s.tp, s.pp, s.dp, s.cp, s.ep, s.virtual_pp, s.microbatch, s.recompute, s.zero,
        x.step_time_s.toFixed(3), (100 * x.mfu).toFixed(1) + '%', x.memory_gib_per_gpu.toFixed(1)]) {
      const td = document.createElement('td'); td.textContent = String(v); row.append(td);
    }
    t.append(row);
  }
  wrap.append(t); out.append(wrap);
  // Rankings finer than the model's error are not findings.
  if (j.top.length && j.top[0].step_time_error) {
    const tie = document.createElement('p'); tie.className = 'muted';
    tie.textContent = 'Step times are typically within ±' + (100 * j.top[0].step_time_error.mean_absolute).toFixed(1) +
      '% (the model against published runs it was not fitted on): layouts closer than that are a tie.';
    out.append(tie);
  }
}
$('run').addEventListener('click', runTrain);
$('save').addEventListener('click', saveTrain);
$('search').addEventListener('click', search);
$('spec').addEventListener('input', rerunSoon);
$('dl-html').addEventListener('click', () => download('train.html', 'text/html', standaloneHtml('Training result', $('result').innerHTML)));
$('dl-json').addEventListener('click', () => downloadPost('/api/train', specBody(), 'train.json', 'application/json'));
$('dl-toml').addEventListener('click', () => download('spec.toml', 'application/toml', $('spec').value));
bindForm(rerunSoon);
(async () => { await restoreState(); runTrain(); })();
