let seq = 0;
async function runRisk() {
  const mine = ++seq;
  const body = {portfolio_text: $('portfolio').value, origin: 'portfolio.toml', samples: num('k-samples'),
    seed: num('k-seed'), at_least_gw: num('k-gw'), by: text('k-by')};
  $('status').textContent = 'sampling…';
  markStale(true);
  const r = await postJson('/api/risk?format=html', body);
  if (mine !== seq) return;
  if (!r.ok) { showError(await errorText(r)); $('status').textContent = 'not run: fix the portfolio (the report shown is for the last good input)'; return; }
  showError('');
  $('report').srcdoc = await r.text();
  markStale(false);
  $('status').textContent = 'up to date';
}
$('run').addEventListener('click', runRisk);
document.querySelectorAll('#options input').forEach((el) => el.addEventListener('keydown', (e) => { if (e.key === 'Enter') runRisk(); }));
runRisk();
