let seq = 0;
function fleetBody() {
  const n = (id) => { const v = $(id).value.trim(); return v === '' ? undefined : Number(v); };
  return {scenario: $('q-scenario').value, model: $('q-model').value, input_tokens: n('q-in'),
    output_tokens: n('q-out'), ttft_slo_s: n('q-ttft'), tpot_slo_s: n('q-tpot'), mode: $('q-mode').value,
    precision: $('q-precision').value, life_years: n('q-life')};
}
async function runFleet() {
  const mine = ++seq;
  markStale(true);
  $('status').textContent = 'running…';
  const r = await postJson('/api/infer/fleet?format=html', fleetBody());
  if (mine !== seq) return;
  if (!r.ok) { showError(await errorText(r)); $('status').textContent = 'not run: fix the question (the report shown is for the last good one)'; return; }
  showError('');
  $('report').srcdoc = await r.text();
  markStale(false);
  $('status').textContent = 'up to date';
  shareState();
}
function downloadFleet(format, type) { return downloadPost('/api/infer/fleet?format=' + format, fleetBody(), 'fleet.' + format, type); }
$('run').addEventListener('click', runFleet);
document.querySelectorAll('#question input, #question select').forEach((el) => el.addEventListener('change', runFleet));
$('dl-html').addEventListener('click', () => downloadFleet('html', 'text/html'));
$('dl-csv').addEventListener('click', () => downloadFleet('csv', 'text/csv'));
$('report').addEventListener('load', () => chartDownloads($('report').contentDocument));
(async () => { await restoreState(); runFleet(); })();
