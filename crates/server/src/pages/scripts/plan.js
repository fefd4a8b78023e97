let seq = 0, timer = null;
async function runPlan() {
  const mine = ++seq;
  markStale(true);
  $('status').textContent = 'running…';
  const r = await postJson('/api/plan?format=html', {input: $('scenario').value, origin: 'scenario.toml'});
  if (mine !== seq) return;
  if (!r.ok) { showError(await errorText(r)); $('status').textContent = 'not run: fix the scenario (the results shown are for the last good input)'; return; }
  showError('');
  $('report').srcdoc = await r.text();
  markStale(false);
  $('status').textContent = 'up to date';
  shareState();
}
async function downloadFormat(format, type) {
  const r = await postJson('/api/plan?format=' + format, {input: $('scenario').value, origin: 'scenario.toml'});
  if (!r.ok) { showError(await errorText(r)); return; }
  download('plan.' + format, type, await r.text());
}
$('report').addEventListener('load', () => chartDownloads($('report').contentDocument));
$('dl-html').addEventListener('click', () => download('plan.html', 'text/html', $('report').srcdoc));
$('dl-csv').addEventListener('click', () => downloadFormat('csv', 'text/csv'));
$('dl-md').addEventListener('click', () => downloadFormat('md', 'text/markdown'));
$('dl-toml').addEventListener('click', () => download('scenario.toml', 'application/toml', $('scenario').value));
async function savePlan() {
  const name = $('run-name').value.trim();
  const r = await postJson('/api/runs', {kind: 'plan', input: $('scenario').value, origin: 'scenario.toml', name: name || undefined});
  if (!r.ok) { showError(await errorText(r)); return; }
  showError(''); savedLink(await r.json());
}
function applyFields() {
  let text = $('scenario').value;
  for (const el of document.querySelectorAll('[data-default]')) {
    if (el.value.trim() === '') continue;
    const v = Number(el.value);
    if (!Number.isFinite(v)) { showError(el.dataset.default + ': not a number'); return; }
    text = setKey(text, 'defaults', el.dataset.default, String(v));
  }
  const price = $('price-usd').value.trim();
  if (price !== '') {
    const v = Number(price);
    if (!Number.isFinite(v)) { showError('price: not a number'); return; }
    text = setKey(text, 'prices', $('price-system').value, String(v));
  }
  $('scenario').value = text;
  runPlan();
}
$('run').addEventListener('click', runPlan);
$('save').addEventListener('click', savePlan);
$('apply').addEventListener('click', applyFields);
$('scenario').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(runPlan, 700); });
$('pick').addEventListener('change', () => { location.href = '/plan?scenario=' + encodeURIComponent($('pick').value); });
(async () => {
  if (await restoreState()) drawTrancheForm();
  runPlan();
})();
