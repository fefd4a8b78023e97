let seq = 0;
function jobBody() {
  return {gpus: num('r-gpus'), days: num('r-days'), work_hours: num('r-work'), system: $('r-system').value,
    checkpoint_interval_min: num('r-interval'), checkpoint_write_s: num('r-write'), async_checkpoint: $('r-async').checked,
    restart_min: num('r-restart'), detection_min: num('r-detection'), repair_hours: num('r-repair'), spares: num('r-spares'),
    node_failures_per_1000_days: num('r-node'), planned_per_day: num('r-planned'), weibull_shape: num('r-weibull'),
    runs: num('r-runs'), seed: num('r-seed'), no_search: $('r-nosearch').checked};
}
async function simulate() {
  const mine = ++seq;
  const body = jobBody();
  markStale(true);
  $('status').textContent = 'simulating…';
  const r = await postJson('/api/reliability?format=html', body);
  if (mine !== seq) return;
  if (!r.ok) { showError(await errorText(r)); $('status').textContent = 'not run: fix the inputs'; return; }
  showError('');
  $('result').innerHTML = await r.text();
  chartDownloads($('result'));
  markStale(false);
  $('status').textContent = 'up to date';
  shareState();
}
$('run').addEventListener('click', simulate);
document.querySelectorAll('#inputs input').forEach((el) => el.addEventListener('keydown', (e) => { if (e.key === 'Enter') simulate(); }));
document.querySelectorAll('#inputs input, #inputs select').forEach((el) => el.addEventListener('change', () => markStale(true)));
$('dl-html').addEventListener('click', () => download('reliability.html', 'text/html', standaloneHtml('Reliability', $('result').innerHTML)));
$('dl-json').addEventListener('click', () => downloadPost('/api/reliability', jobBody(), 'reliability.json', 'application/json'));
(async () => { await restoreState(); simulate(); })();
