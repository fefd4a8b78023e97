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
// The whole scenario lives in the URL's fragment (deflated, base64url): a link to an unsaved
// edit reopens it. The fragment never reaches the server.
async function pack(text) {
  let bytes = new TextEncoder().encode(text), tag = 'p';
  if (window.CompressionStream) {
    const s = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate-raw'));
    bytes = new Uint8Array(await new Response(s).arrayBuffer()); tag = 'z';
  }
  let bin = ''; for (const b of bytes) bin += String.fromCharCode(b);
  return tag + btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
async function unpack(packed) {
  const tag = packed[0], b64 = packed.slice(1).replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  if (tag === 'z') {
    const s = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    return await new Response(s).text();
  }
  return new TextDecoder().decode(bytes);
}
async function shareState() {
  const packed = await pack($('scenario').value);
  history.replaceState(null, '', location.pathname + location.search + '#s=' + packed);
  $('share').href = location.href;
}
function download(name, type, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], {type}));
  a.download = name; document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
async function downloadFormat(format, type) {
  const r = await postJson('/api/plan?format=' + format, {input: $('scenario').value, origin: 'scenario.toml'});
  if (!r.ok) { showError(await errorText(r)); return; }
  download('plan.' + format, type, await r.text());
}
function chartDownloads() {
  const box = $('chart-downloads'); box.textContent = '';
  const doc = $('report').contentDocument; if (!doc) return;
  doc.querySelectorAll('svg.chart').forEach((svg, i) => {
    const title = (svg.querySelector('title') || {}).textContent || ('chart ' + (i + 1));
    const b = document.createElement('button'); b.type = 'button'; b.className = 'plain';
    b.textContent = 'SVG: ' + title.split(' by month')[0].split(',')[0];
    b.addEventListener('click', () => {
      const copy = svg.cloneNode(true); copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
      download((svg.id || ('chart-' + (i + 1))) + '.svg', 'image/svg+xml', copy.outerHTML);
    });
    box.append(b);
  });
}
$('report').addEventListener('load', chartDownloads);
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
function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }
// Sets `key = value` in [section] of TOML text, keeping everything else (comments included).
function setKey(text, section, key, value) {
  const lines = text.split('\n');
  const header = /^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$/, anyHeader = /^\s*\[/;
  const keyRe = new RegExp('^\\s*"?' + escapeRe(key) + '"?\\s*=');
  const line = key + ' = ' + value;
  const start = lines.findIndex((l) => { const m = l.match(header); return m && m[1] === section; });
  if (start >= 0) {
    let end = lines.length;
    for (let i = start + 1; i < lines.length; i++) if (anyHeader.test(lines[i])) { end = i; break; }
    for (let i = start + 1; i < end; i++) if (keyRe.test(lines[i])) { lines[i] = line; return lines.join('\n'); }
    lines.splice(start + 1, 0, line);
    return lines.join('\n');
  }
  let first = lines.findIndex((l) => anyHeader.test(l));
  if (first < 0) { lines.push('', '[' + section + ']', line); return lines.join('\n'); }
  lines.splice(first, 0, '[' + section + ']', line, '');
  return lines.join('\n');
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
  if (location.hash.startsWith('#s=')) {
    try { $('scenario').value = await unpack(location.hash.slice(3)); renumber($('scenario')); drawTrancheForm(); $('status').textContent = 'opened from a shared link'; }
    catch (e) { showError('the shared link could not be read: ' + e); }
  }
  runPlan();
})();
