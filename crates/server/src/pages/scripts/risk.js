let seq = 0, timer = null;
function riskBody() {
  return {portfolio_text: $('portfolio').value, origin: 'portfolio.toml', samples: num('k-samples'),
    seed: num('k-seed'), at_least_gw: num('k-gw'), by: text('k-by')};
}
async function runRisk() {
  const mine = ++seq;
  const body = riskBody();
  $('status').textContent = 'sampling…';
  markStale(true);
  const r = await postJson('/api/risk?format=html', body);
  if (mine !== seq) return;
  if (!r.ok) { showError(await errorText(r)); $('status').textContent = 'not run: fix the portfolio (the report shown is for the last good input)'; return; }
  showError('');
  $('report').srcdoc = await r.text();
  markStale(false);
  $('status').textContent = 'up to date';
  shareState();
}
$('run').addEventListener('click', runRisk);
document.querySelectorAll('#options input').forEach((el) => el.addEventListener('keydown', (e) => { if (e.key === 'Enter') runRisk(); }));
$('portfolio').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(runRisk, 900); });
document.querySelectorAll('#options input').forEach((el) => el.addEventListener('change', () => markStale(true)));
$('report').addEventListener('load', () => chartDownloads($('report').contentDocument));
$('dl-html').addEventListener('click', () => download('risk.html', 'text/html', $('report').srcdoc));
$('dl-csv').addEventListener('click', () => downloadPost('/api/risk?format=csv', riskBody(), 'risk.csv', 'text/csv'));
$('dl-toml').addEventListener('click', () => download('portfolio.toml', 'application/toml', $('portfolio').value));
(async () => { await restoreState(); runRisk(); })();
