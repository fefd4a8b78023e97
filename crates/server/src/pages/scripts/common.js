const $ = (id) => document.getElementById(id);
async function postJson(url, body) {
  return fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)});
}
async function errorText(r) {
  try { const j = await r.json(); return j.error || (r.status + ' ' + r.statusText); }
  catch (e) { return r.status + ' ' + r.statusText; }
}
// Editors: every TOML textarea gets a line-number gutter; an error that cites
// `file:LINE:COL` marks that line in the gutter and offers to select it.
function gutterOf(ta) { return ta.parentElement.classList.contains('editor') ? ta.parentElement.querySelector('.gutter') : null; }
function renumber(ta, errLine) {
  const g = gutterOf(ta); if (!g) return;
  const n = ta.value.split('\n').length;
  if (g.childElementCount !== n || errLine !== undefined) {
    g.textContent = '';
    for (let i = 1; i <= n; i++) { const sp = document.createElement('span'); sp.textContent = i; if (i === errLine) sp.className = 'err'; g.append(sp); }
  }
  g.scrollTop = ta.scrollTop;
}
document.querySelectorAll('textarea[data-editor]').forEach((ta) => {
  const wrap = document.createElement('div'); wrap.className = 'editor';
  const g = document.createElement('pre'); g.className = 'gutter'; g.setAttribute('aria-hidden', 'true');
  ta.replaceWith(wrap); wrap.append(g, ta);
  ta.addEventListener('input', () => { renumber(ta); markStale(true); });
  ta.addEventListener('scroll', () => { g.scrollTop = ta.scrollTop; });
  renumber(ta);
});
function selectLine(ta, line) {
  const lines = ta.value.split('\n'); let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
  ta.focus(); ta.setSelectionRange(start, start + (lines[line - 1] || '').length);
  const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18; ta.scrollTop = Math.max(0, (line - 4) * lh);
}
function showError(msg) {
  const m = $('messages'); m.textContent = msg || ''; m.hidden = !msg;
  const ta = document.querySelector('textarea[data-editor]'); if (!ta) return;
  const hit = msg && msg.match(/\.toml:(\d+):(\d+)/);
  const line = hit ? Number(hit[1]) : 0;
  renumber(ta, line);
  ta.setAttribute('aria-invalid', msg ? 'true' : 'false');
  if (line) {
    const b = document.createElement('button'); b.type = 'button'; b.className = 'plain'; b.textContent = 'Show line ' + line;
    b.addEventListener('click', () => selectLine(ta, line)); m.append(document.createElement('br'), b);
  }
}
// Results that no longer match the input are dimmed until the next run succeeds.
function markStale(on) { const r = $('report') || $('result'); if (r) r.classList.toggle('stale', on); }
function savedLink(j) {
  const box = $('saved'); box.textContent = '';
  const a = document.createElement('a'); a.href = j.page; a.id = 'saved-link';
  a.textContent = 'Saved as run #' + j.run.id; box.append(a);
}
document.querySelectorAll('button[data-delete]').forEach((b) => b.addEventListener('click', async () => {
  if (!confirm('Delete run #' + b.dataset.delete + '?')) return;
  const r = await fetch('/api/runs/' + b.dataset.delete, {method: 'DELETE'});
  if (r.ok || r.status === 404) { if (b.dataset.after) location.href = b.dataset.after; else b.closest('tr').remove(); }
  else alert(await errorText(r));
}));
