let seq = 0, timer = null;
function specBody() { return {input: $('spec').value, origin: 'spec.toml'}; }
// An error in the TOML opens the TOML (the form cannot show which line is wrong).
function showSpecError(msg) { showError(msg); if (/\.toml:\d+/.test(msg)) $('toml-details').open = true; }
async function runInfer() {
  const mine = ++seq;
  $('status').textContent = 'running…';
  markStale(true);
  const r = await postJson('/api/infer?format=html', specBody());
  if (mine !== seq) return;
  if (!r.ok) { showSpecError(await errorText(r)); $('status').textContent = 'not run: fix the spec (the result shown is for the last good input)'; return; }
  showError('');
  $('result').innerHTML = await r.text();
  chartDownloads($('result'));
  markStale(false);
  $('status').textContent = 'up to date';
  shareState();
}
function rerunSoon() { clearTimeout(timer); timer = setTimeout(runInfer, 500); }
async function searchInfer() {
  const body = {model: $('s-model').value, system: $('s-system').value, input_tokens: num('s-in'),
    output_tokens: num('s-out'), ttft_slo_s: num('s-ttft'), tpot_slo_s: num('s-tpot'), mode: $('s-mode').value,
    disaggregated: $('s-disagg').checked, precision: $('s-precision').value, top: num('s-top')};
  const out = $('search-result'); out.textContent = 'searching…';
  const r = await postJson('/api/infer/search?format=html', body);
  if (!r.ok) { out.textContent = ''; showError(await errorText(r)); return; }
  showError('');
  out.innerHTML = await r.text();
}
$('run').addEventListener('click', runInfer);
$('search').addEventListener('click', searchInfer);
$('spec').addEventListener('input', rerunSoon);
$('dl-html').addEventListener('click', () => download('infer.html', 'text/html', standaloneHtml('Serving result', $('result').innerHTML)));
$('dl-json').addEventListener('click', () => downloadPost('/api/infer', specBody(), 'infer.json', 'application/json'));
$('dl-toml').addEventListener('click', () => download('spec.toml', 'application/toml', $('spec').value));
bindForm(rerunSoon);
(async () => { await restoreState(); runInfer(); })();
