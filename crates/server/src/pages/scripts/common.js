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
// ---- TOML keys, for the forms bound to an editor -------------------------------------------
function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }
function tomlString(v) { return '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"'; }
const HEADER_RE = /^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$/, ANY_HEADER_RE = /^\s*\[/;
// The line span [start, end) of [section] ('' is the top level, before any header); null if absent.
function sectionSpan(lines, section) {
  let start = 0;
  if (section !== '') {
    start = lines.findIndex((l) => { const m = l.match(HEADER_RE); return m && m[1] === section; });
    if (start < 0) return null;
    start += 1;
  }
  let end = lines.length;
  for (let i = start; i < lines.length; i++) if (ANY_HEADER_RE.test(lines[i])) { end = i; break; }
  return [start, end];
}
function keyRe(key) { return new RegExp('^\\s*"?' + escapeRe(key) + '"?\\s*=\\s*(.*?)\\s*$'); }
// The raw TOML value of `key` in [section] (comments stripped), or undefined.
function getKey(text, section, key) {
  const lines = text.split('\n'), span = sectionSpan(lines, section);
  if (!span) return undefined;
  for (let i = span[0]; i < span[1]; i++) {
    const m = lines[i].match(keyRe(key));
    if (m) { const s = m[1].match(/^"((?:[^"\\]|\\.)*)"/); return s ? s[0] : m[1].replace(/\s*#.*$/, ''); }
  }
  return undefined;
}
// Sets `key = literal` in [section] of TOML text (or with `literal` null removes the key),
// keeping every other line as written (comments included).
function setKey(text, section, key, literal) {
  const lines = text.split('\n'), span = sectionSpan(lines, section);
  const line = key + ' = ' + literal;
  if (span) {
    for (let i = span[0]; i < span[1]; i++) {
      if (keyRe(key).test(lines[i])) {
        if (literal === null) lines.splice(i, 1); else lines[i] = line;
        return lines.join('\n');
      }
    }
    if (literal === null) return text;
    // After the section's last key line, so a blank line before the next header stays.
    let at = span[1];
    while (at > span[0] && lines[at - 1].trim() === '') at--;
    lines.splice(at, 0, line);
    return lines.join('\n');
  }
  if (literal === null) return text;
  return text.replace(/\s*$/, '\n') + '[' + section + ']\n' + line + '\n';
}
// Form fields with data-toml="section.key" (or a top-level "key") edit that line of the page's
// TOML editor and follow it when the TOML is edited: the form and the text stay one spec.
function boundFields() { return Array.from(document.querySelectorAll('[data-toml]')); }
function splitKey(path) { const i = path.lastIndexOf('.'); return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)]; }
function syncForm() {
  const ta = document.querySelector('textarea[data-editor]'); if (!ta) return;
  for (const el of boundFields()) {
    if (el === document.activeElement) continue;
    const [section, key] = splitKey(el.dataset.toml);
    const raw = getKey(ta.value, section, key);
    if (el.dataset.type === 'bool') { el.checked = raw === 'true'; continue; }
    let v = raw === undefined ? '' : raw;
    if (el.dataset.type === 'str' && /^"/.test(v)) v = JSON.parse(v);
    if (el.tagName === 'SELECT' && v !== '' && !Array.from(el.options).some((o) => o.value === v)) {
      const o = document.createElement('option'); o.textContent = v; el.append(o);
    }
    el.value = v;
    if (el.tagName === 'SELECT' && v === '') el.selectedIndex = -1;
  }
}
function bindForm(onEdit) {
  const ta = document.querySelector('textarea[data-editor]'); if (!ta) return;
  for (const el of boundFields()) {
    el.addEventListener('change', () => {
      const [section, key] = splitKey(el.dataset.toml);
      let literal;
      if (el.dataset.type === 'bool') literal = el.checked ? 'true' : 'false';
      else if (el.dataset.type === 'num') {
        const v = el.value.trim();
        if (v === '') literal = null;
        else if (!Number.isFinite(Number(v))) { showError(el.dataset.toml + ': not a number'); return; }
        else literal = v;
      } else literal = el.value === '' ? null : tomlString(el.value);
      ta.value = setKey(ta.value, section, key, literal);
      renumber(ta); markStale(true); onEdit();
    });
  }
  ta.addEventListener('input', syncForm);
  syncForm();
}

// ---- The share link: the page's inputs in the URL fragment (never sent to the server) ------
// {v: 1, t: the editor's text, f: {id: value} of every [data-share] field}, deflated and
// base64url-encoded; a link to unsaved edits reopens them. Old plan links held the text alone.
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
function pageState() {
  const state = {v: 1, f: {}};
  const ta = document.querySelector('textarea[data-editor]'); if (ta) state.t = ta.value;
  for (const el of document.querySelectorAll('[data-share][id]')) state.f[el.id] = el.type === 'checkbox' ? el.checked : el.value;
  return state;
}
async function shareState() {
  const packed = await pack(JSON.stringify(pageState()));
  history.replaceState(null, '', location.pathname + location.search + '#s=' + packed);
  const a = $('share'); if (a) a.href = location.href;
}
// Restores the inputs from a share link; true when the page was opened from one.
async function restoreState() {
  if (!location.hash.startsWith('#s=')) return false;
  try {
    const text = await unpack(location.hash.slice(3));
    let state;
    try { state = JSON.parse(text); } catch (e) { state = null; }
    if (!state || state.v !== 1) state = {t: text, f: {}};
    const ta = document.querySelector('textarea[data-editor]');
    if (ta && typeof state.t === 'string') { ta.value = state.t; renumber(ta); }
    for (const [id, v] of Object.entries(state.f || {})) {
      const el = document.getElementById(id); if (!el || !el.hasAttribute('data-share')) continue;
      if (el.type === 'checkbox') el.checked = !!v; else el.value = v;
    }
    syncForm();
    return true;
  } catch (e) { showError('the shared link could not be read: ' + e); return false; }
}

// ---- Downloads -----------------------------------------------------------------------------
function download(name, type, data) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(data instanceof Blob ? data : new Blob([data], {type}));
  a.download = name; document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
function standaloneSvg(svg) {
  const copy = svg.cloneNode(true); copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const box = svg.getBoundingClientRect();
  if (!copy.getAttribute('width')) copy.setAttribute('width', Math.round(box.width));
  if (!copy.getAttribute('height')) copy.setAttribute('height', Math.round(box.height));
  return copy.outerHTML;
}
// A chart as PNG at twice its drawn size, on white (the SVG drawn into a canvas).
function svgToPng(svg) {
  const text = standaloneSvg(svg), box = svg.getBoundingClientRect();
  const vb = svg.viewBox && svg.viewBox.baseVal;
  const w = Math.round(box.width || (vb && vb.width) || 800), h = Math.round(box.height || (vb && vb.height) || 400);
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const c = document.createElement('canvas'); c.width = 2 * w; c.height = 2 * h;
      const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height);
      g.drawImage(img, 0, 0, c.width, c.height);
      c.toBlob((b) => (b ? resolve(b) : reject(new Error('no PNG'))), 'image/png');
    };
    img.onerror = () => reject(new Error('the chart could not be drawn'));
    img.src = 'data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(text)));
  });
}
// An SVG and a PNG button for every chart under `root` (a document or an element).
function chartDownloads(root) {
  const box = $('chart-downloads'); if (!box) return;
  box.textContent = '';
  if (!root) return;
  root.querySelectorAll('svg.chart').forEach((svg, i) => {
    const title = (svg.querySelector('title') || {}).textContent || ('chart ' + (i + 1));
    const short = title.split(' by month')[0].split(',')[0];
    const name = svg.id || ('chart-' + (i + 1));
    for (const kind of ['SVG', 'PNG']) {
      const b = document.createElement('button'); b.type = 'button'; b.className = 'plain';
      b.textContent = kind + ': ' + short; b.dataset.chart = kind.toLowerCase();
      b.addEventListener('click', async () => {
        if (kind === 'SVG') download(name + '.svg', 'image/svg+xml', standaloneSvg(svg));
        else {
          try { download(name + '.png', 'image/png', await svgToPng(svg)); }
          catch (e) { showError(String(e)); }
        }
      });
      box.append(b);
    }
  });
}
// A result shown in the page as a self-contained HTML file, with the page's stylesheet.
function standaloneHtml(title, html) {
  const css = (document.querySelector('style') || {}).textContent || '';
  return '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>' + title.replace(/</g, '&lt;') +
    '</title><style>' + css + '</style></head><body><main>' + html + '</main></body></html>\n';
}
async function downloadPost(url, body, name, type) {
  const r = await postJson(url, body);
  if (!r.ok) { showError(await errorText(r)); return; }
  download(name, type, await r.text());
}

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
// Printing shows every folded section (data tables, assumptions) and puts them back after.
let openedForPrint = [];
window.addEventListener('beforeprint', () => {
  openedForPrint = Array.from(document.querySelectorAll('details:not([open])'));
  openedForPrint.forEach((d) => { d.open = true; });
});
window.addEventListener('afterprint', () => { openedForPrint.forEach((d) => { d.open = false; }); openedForPrint = []; });
