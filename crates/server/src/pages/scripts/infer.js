let seq = 0, timer = null;
async function runInfer() {
  const mine = ++seq;
  $('status').textContent = 'running…';
  markStale(true);
  const r = await postJson('/api/infer?format=html', {input: $('spec').value, origin: 'spec.toml'});
  if (mine !== seq) return;
  if (!r.ok) { showError(await errorText(r)); $('status').textContent = 'not run: fix the spec (the result shown is for the last good input)'; return; }
  showError('');
  $('result').innerHTML = await r.text();
  markStale(false);
  $('status').textContent = 'up to date';
}
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
$('spec').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(runInfer, 500); });
runInfer();
