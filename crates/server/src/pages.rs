//! The dashboard's pages: server-rendered HTML strings with one shared layout, a small inline
//! script that calls the JSON API, and SVG drawn here or by `report`. Every piece of text that
//! comes from a user (scenario names, inputs, run names) or the catalog is escaped.

use std::fmt::Write as _;

use axum::extract::{Path as UrlPath, Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use units::{fmt_count, fmt_usd};

use crate::{
    blocking, compare, load_pair, load_run, plan_input, train_input, verify, ApiError, AppState,
    CompareQuery, RunKind,
};

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

use crate::page_style::STYLE;

/// Helpers shared by every page's script.
const SCRIPT_COMMON: &str = r#"
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
"#;

/// The plan page's script: run on edit (debounced), run, save, and the common-fields form.
const SCRIPT_PLAN: &str = r#"
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
"#;

const SCRIPT_TRAIN: &str = r#"
async function runTrain() {
  markStale(true);
  $('status').textContent = 'running…';
  const r = await postJson('/api/train?format=html', {input: $('spec').value, origin: 'spec.toml'});
  if (!r.ok) { showError(await errorText(r)); $('status').textContent = 'not run: fix the spec (the result shown is for the last good input)'; return; }
  showError('');
  $('result').innerHTML = await r.text();
  markStale(false);
  $('status').textContent = 'up to date';
}
async function saveTrain() {
  const name = $('run-name').value.trim();
  const r = await postJson('/api/runs', {kind: 'train', input: $('spec').value, origin: 'spec.toml', name: name || undefined});
  if (!r.ok) { showError(await errorText(r)); return; }
  showError(''); savedLink(await r.json());
}
async function search() {
  const f = (id) => $(id).value;
  const body = {model: f('s-model'), system: f('s-system'), gpus: Number(f('s-gpus')), global_batch: Number(f('s-batch')),
    seq_len: Number(f('s-seq')), precision: f('s-precision'), top: Number(f('s-top'))};
  const out = $('search-result'); out.textContent = 'searching…';
  const r = await postJson('/api/train/search', body);
  if (!r.ok) { out.textContent = ''; showError(await errorText(r)); return; }
  showError('');
  const j = await r.json();
  out.textContent = '';
  const p = document.createElement('p');
  p.textContent = j.evaluated + ' layouts evaluated, ' + j.feasible + ' fit.'; out.append(p);
  const t = document.createElement('table');
  const head = ['tp', 'pp', 'dp', 'cp', 'ep', 'vpp', 'mb', 'recompute', 'zero', 'step s', 'MFU', 'mem GiB'];
  const tr = document.createElement('tr');
  for (const h of head) { const th = document.createElement('th'); th.textContent = h; tr.append(th); }
  t.append(tr);
  for (const x of j.top) {
    const s = x.strategy;
    const row = document.createElement('tr');
    for (const v of [s.tp, s.pp, s.dp, s.cp, s.ep, s.virtual_pp, s.microbatch, s.recompute, s.zero,
        x.step_time_s.toFixed(3), (100 * x.mfu).toFixed(1) + '%', x.memory_gib_per_gpu.toFixed(1)]) {
      const td = document.createElement('td'); td.textContent = String(v); row.append(td);
    }
    t.append(row);
  }
  out.append(t);
}
$('run').addEventListener('click', runTrain);
$('save').addEventListener('click', saveTrain);
$('search').addEventListener('click', search);
runTrain();
"#;

const TRAIN_EXAMPLE: &str = r#"model = "gpt3-175b"
[cluster]
system = "dgx-a100-80gb"
gpus = 64
[parallelism]
tp = 8
pp = 8
virtual_pp = 3
microbatch = 1
sequence_parallel = true
recompute = "selective"
zero = 1
[training]
global_batch = 64
seq_len = 2048
precision = "bf16"
tokens = 300e9
"#;

fn layout(title: &str, active: &str, body: &str, script: &str) -> String {
    let mut nav = String::new();
    for (href, label) in [
        ("/plan", "Plan"),
        ("/train", "Train"),
        ("/infer", "Infer"),
        ("/fleet", "Fleet"),
        ("/reliability", "Reliability"),
        ("/risk", "Risk"),
        ("/catalog", "Catalog"),
        ("/runs", "Runs"),
    ] {
        let class = if label == active { " class=\"on\"" } else { "" };
        let _ = write!(nav, "<a href=\"{href}\"{class}>{label}</a>");
    }
    let script = if script.is_empty() {
        format!("<script>{SCRIPT_COMMON}</script>")
    } else {
        format!("<script>{SCRIPT_COMMON}{script}</script>")
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\"><title>{} · gigawatt</title><style>{STYLE}</style></head><body>\
         <header class=\"top\"><span class=\"brand\">gigawatt</span>{nav}</header>\
         <main>{body}</main>{script}</body></html>\n",
        esc(title)
    )
}

pub(crate) fn page(title: &str, active: &str, body: &str, script: &str) -> Response {
    with_script_policy(
        Html(layout(title, active, body, script)).into_response(),
        script,
    )
}

/// `response` with the Content-Security-Policy that lets exactly the inline script `layout`
/// writes for `script` run (its SHA-256 hash), and no other.
fn with_script_policy(mut response: Response, script: &str) -> Response {
    let policy = crate::csp::page_policy(&format!("{SCRIPT_COMMON}{script}"));
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

pub(crate) fn error_page(error: &ApiError) -> Response {
    let body = format!(
        "<h1>{}</h1><pre class=\"messages\">{}</pre><p><a href=\"/runs\">Saved runs</a> · <a href=\"/plan\">Plan</a></p>",
        esc(error.status.canonical_reason().unwrap_or("Error")),
        esc(&error.message)
    );
    with_script_policy(
        (error.status, Html(layout("Error", "", &body, ""))).into_response(),
        "",
    )
}

/// The 404 page for paths nothing serves.
pub fn not_found(path: &str) -> Response {
    error_page(&ApiError::not_found(format!("nothing at {path}")))
}

#[derive(Debug, Deserialize)]
pub struct PlanQuery {
    scenario: Option<String>,
    run: Option<String>,
}

pub async fn plan_page(State(state): State<AppState>, Query(query): Query<PlanQuery>) -> Response {
    let scenarios = &state.inner.scenarios;
    let mut notice = String::new();
    let mut chosen = scenarios
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let mut text = scenarios
        .first()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    if let Some(name) = &query.scenario {
        match scenarios.iter().find(|s| &s.name == name) {
            Some(s) => {
                chosen = s.name.clone();
                text = s.text.clone();
            }
            None => {
                notice = format!(
                    "<p class=\"messages\">no shipped scenario named `{}`; showing `{}`</p>",
                    esc(name),
                    esc(&chosen)
                )
            }
        }
    }
    if let Some(id) = &query.run {
        match load_run(&state, id).await {
            Ok(run) if run.summary.kind == "plan" => {
                chosen = String::new();
                text = run.input_text.clone();
                notice = format!(
                    "<p class=\"muted\">Editing the input of <a href=\"/runs/{0}\">run #{0}</a>; saving makes a new run.</p>",
                    run.summary.id
                );
            }
            Ok(_) => return error_page(&ApiError::bad_request(format!("run {id} is not a plan"))),
            Err(e) => return error_page(&e),
        }
    }
    let mut options = String::new();
    if chosen.is_empty() {
        options += "<option value=\"\" selected>(a saved run)</option>";
    }
    for s in scenarios {
        let selected = if s.name == chosen { " selected" } else { "" };
        let _ = write!(
            options,
            "<option value=\"{0}\"{selected}>{0}</option>",
            esc(&s.name)
        );
    }
    let mut systems = String::new();
    for id in state.inner.catalog.systems.keys() {
        let _ = write!(systems, "<option>{}</option>", esc(id));
    }
    let field = |key: &str, label: &str, hint: &str| {
        format!(
            "<label>{label} <input type=\"number\" step=\"any\" data-default=\"{key}\" id=\"f-{key}\" placeholder=\"{hint}\"></label>"
        )
    };
    let body = format!(
        "<h1>Plan a buildout</h1>{notice}\
         <div class=\"grid\"><div>\
         <div class=\"row\"><label>Shipped scenario <select id=\"pick\">{options}</select></label>\
         <span class=\"muted\">Edit the TOML; the plan reruns as you type.</span></div>\
         <textarea id=\"scenario\" data-editor spellcheck=\"false\" aria-label=\"Scenario (TOML)\">{}</textarea>\
         <pre id=\"messages\" class=\"messages\" role=\"alert\" hidden></pre>\
         <div class=\"row\"><button id=\"run\">Run</button>\
         <input type=\"text\" id=\"run-name\" placeholder=\"name for the saved run (optional)\" size=\"32\">\
         <button id=\"save\" class=\"plain\">Save run</button>\
         <span id=\"status\" class=\"muted\"></span> <span id=\"saved\"></span></div>\
         </div><div>\
         <fieldset><legend>Defaults for every tranche</legend>{}{}{}{}{}</fieldset>\
         <fieldset><legend>Price per system</legend>\
         <label>System <select id=\"price-system\">{systems}</select></label>\
         <label>USD per system <input type=\"number\" step=\"any\" id=\"price-usd\" placeholder=\"e.g. 3.4e6\"></label></fieldset>\
         <div class=\"row\"><button id=\"apply\" class=\"plain\">Apply to scenario</button></div>\
         <p class=\"muted\">Fields left empty are not changed. Tranches, deals and financing are edited in the TOML \
         (format: \"Writing a scenario\" in the README).</p>\
         </div></div>\
         <h2 id=\"tranches-title\">Tranches</h2>\
         <p class=\"muted\">Edit a cell and the TOML above follows (only that line changes); edit the TOML and this table follows. \
         Deals, financing and overrides are edited in the TOML.</p>\
         <div id=\"tranche-form\" class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"tranches-title\"></div>\
         <div class=\"row\"><button type=\"button\" class=\"plain\" id=\"add-tranche\">Add a tranche</button></div>\
         <h2>Results</h2>\
         <div class=\"downloads\" role=\"group\" aria-label=\"Downloads and sharing\">\
         <button type=\"button\" class=\"plain\" id=\"dl-html\">HTML report</button>\
         <button type=\"button\" class=\"plain\" id=\"dl-csv\">CSV (monthly)</button>\
         <button type=\"button\" class=\"plain\" id=\"dl-md\">Markdown</button>\
         <button type=\"button\" class=\"plain\" id=\"dl-toml\">Scenario TOML</button>\
         <span id=\"chart-downloads\" class=\"downloads\"></span>\
         <a id=\"share\" class=\"button\" href=\"#\">Link to this scenario (unsaved edits included)</a></div>\
         <iframe id=\"report\" class=\"report\" title=\"Plan report\" sandbox=\"allow-same-origin\"></iframe>",
        esc(&text),
        field("pue", "PUE", "e.g. 1.2"),
        field("electricity_usd_per_kwh", "Electricity, USD/kWh", "e.g. 0.07"),
        field("utilization", "Utilization (0–1)", "e.g. 0.8"),
        field("ramp_months", "Ramp, months", "e.g. 6"),
        field("build_months", "Build, months", "e.g. 18"),
    );
    let script = format!("{SCRIPT_PLAN}{}", crate::plan_form::SCRIPT_PLAN_FORM);
    page("Plan", "Plan", &body, &script)
}

pub async fn train_page(State(state): State<AppState>, Query(query): Query<PlanQuery>) -> Response {
    let mut text = TRAIN_EXAMPLE.to_string();
    let mut notice = String::new();
    if let Some(id) = &query.run {
        match load_run(&state, id).await {
            Ok(run) if run.summary.kind == "train" => {
                text = run.input_text.clone();
                notice = format!(
                    "<p class=\"muted\">Editing the input of <a href=\"/runs/{0}\">run #{0}</a>; saving makes a new run.</p>",
                    run.summary.id
                );
            }
            Ok(_) => {
                return error_page(&ApiError::bad_request(format!(
                    "run {id} is not a training run"
                )))
            }
            Err(e) => return error_page(&e),
        }
    }
    let catalog = &state.inner.catalog;
    let options = |ids: Vec<&String>, selected: &str| {
        let mut out = String::new();
        for id in ids {
            let s = if id == selected { " selected" } else { "" };
            let _ = write!(out, "<option{s}>{}</option>", esc(id));
        }
        out
    };
    let body = format!(
        "<h1>Training a model</h1>{notice}\
         <div class=\"grid\"><div>\
         <p class=\"muted\">A training spec: model, cluster, parallel layout, workload (format: \"Training a model\" in the README).</p>\
         <textarea id=\"spec\" data-editor spellcheck=\"false\" aria-label=\"Training spec (TOML)\">{}</textarea>\
         <pre id=\"messages\" class=\"messages\" role=\"alert\" hidden></pre>\
         <div class=\"row\"><button id=\"run\">Run</button>\
         <input type=\"text\" id=\"run-name\" placeholder=\"name for the saved run (optional)\" size=\"32\">\
         <button id=\"save\" class=\"plain\">Save run</button>\
         <span id=\"status\" class=\"muted\"></span> <span id=\"saved\"></span></div>\
         </div><div><fieldset><legend>Search layouts</legend>\
         <label>Model <select id=\"s-model\">{}</select></label>\
         <label>System <select id=\"s-system\">{}</select></label>\
         <label>GPUs <input type=\"number\" id=\"s-gpus\" value=\"1024\"></label>\
         <label>Global batch <input type=\"number\" id=\"s-batch\" value=\"1024\"></label>\
         <label>Sequence length <input type=\"number\" id=\"s-seq\" value=\"4096\"></label>\
         <label>Precision <select id=\"s-precision\"><option>bf16</option><option>fp8</option><option>fp4</option></select></label>\
         <label>Top <input type=\"number\" id=\"s-top\" value=\"5\"></label>\
         <div class=\"row\"><button id=\"search\" class=\"plain\">Search</button></div></fieldset>\
         <div id=\"search-result\"></div></div></div>\
         <h2>Result</h2><div id=\"result\"></div>",
        esc(&text),
        options(catalog.models.keys().collect(), "llama3-70b"),
        options(catalog.systems.keys().collect(), "dgx-h100"),
    );
    page("Train", "Train", &body, SCRIPT_TRAIN)
}

/// A horizontal bar chart, server-drawn SVG.
fn bar_chart(title: &str, bars: &[(String, f64)], unit: &str) -> String {
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let (label_w, bar_w, row_h) = (190.0, 420.0, 22.0);
    let height = 30.0 + row_h * bars.len() as f64;
    let mut out = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{0}\" viewBox=\"0 0 {1} {height}\" width=\"{1}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{0}</title>",
        esc(title),
        label_w + bar_w + 110.0
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 10.0 + row_h * i as f64;
        let w = if max > 0.0 { bar_w * value / max } else { 0.0 };
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1d2330\">{}</text>\
             <rect x=\"{label_w}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#5b6474\">{} {}</text>",
            label_w - 8.0,
            y + 14.0,
            esc(label),
            y + 2.0,
            row_h - 6.0,
            PALETTE[i % PALETTE.len()],
            label_w + w + 6.0,
            y + 14.0,
            trim_number(*value),
            esc(unit)
        );
    }
    out += "</svg>";
    out
}

const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

fn trim_number(value: f64) -> String {
    if value == 0.0 {
        "0".into()
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}

/// A training result as an HTML fragment: headline cards, where a step goes (SVG), assumptions.
pub fn train_fragment(r: &engine::train::TrainResult) -> String {
    let s = &r.strategy;
    let b = &r.breakdown;
    let mut out = format!(
        "<p><strong>{}</strong> on {} × {} ({:.1}B parameters, {:.1}B active). Layout: tp {} pp {} dp {} cp {} ep {} vpp {} microbatch {} zero {}.</p>",
        esc(&r.model.id),
        fmt_count(r.gpus as f64),
        esc(&r.system),
        r.model.params_total / 1e9,
        r.model.params_active / 1e9,
        s.tp, s.pp, s.dp, s.cp, s.ep, s.virtual_pp, s.microbatch, s.zero
    );
    out += "<div class=\"cards\">";
    let feasible = if r.feasible {
        "yes".to_string()
    } else {
        format!("no: {}", r.reason.clone().unwrap_or_default())
    };
    let mut cards = vec![
        ("step time", format!("{:.3} s", r.step_time_s)),
        ("tokens per second", fmt_count(r.tokens_per_s)),
        ("MFU", format!("{:.1}%", 100.0 * r.mfu)),
        ("TFLOP/s per GPU", format!("{:.1}", r.tflops_per_gpu)),
        (
            "memory per GPU",
            format!(
                "{:.1} of {:.1} GiB",
                r.memory_gib_per_gpu, r.memory_gib.capacity
            ),
        ),
        ("fits", feasible),
    ];
    if let Some(t) = &r.time_to_train {
        cards.push((
            "days to train",
            format!(
                "{:.1} ({:.1} with failures)",
                t.days_without_failures, t.days_with_failures
            ),
        ));
    }
    for (label, value) in cards {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div></div>",
            esc(label),
            esc(&value)
        );
    }
    out += "</div><h3>Where a step goes</h3>";
    let bars: Vec<(String, f64)> = [
        ("compute", b.compute_s),
        ("of which recompute", b.recompute_s),
        ("tensor-parallel comm", b.tp_comm_s),
        ("context-parallel comm", b.cp_comm_s),
        ("expert all-to-all", b.ep_comm_s),
        ("pipeline p2p", b.pp_comm_s),
        ("data-parallel comm", b.dp_comm_s),
        ("pipeline bubble", b.bubble_s),
        ("optimizer", b.optimizer_s),
    ]
    .into_iter()
    .map(|(l, v)| (l.to_string(), v))
    .collect();
    out += &bar_chart("Seconds per step by part", &bars, "s");
    out += "<details><summary>Assumptions</summary><ul>";
    for a in &r.assumptions {
        let _ = write!(out, "<li>{}</li>", report::prose_html(a));
    }
    out += "</ul></details>";
    out
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

fn linkable(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM UTC`.
pub fn fmt_time(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

fn fmt_output(key: &str, value: &Value) -> String {
    match value {
        Value::Number(n) => {
            let v = n.as_f64().unwrap_or(0.0);
            if key.ends_with("usd") {
                fmt_usd(v)
            } else if key == "mfu" {
                format!("{:.1}%", 100.0 * v)
            } else if v.abs() >= 1000.0 {
                fmt_count(v)
            } else {
                trim_number(v)
            }
        }
        other => plain(other),
    }
}

pub async fn run_page(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    let run = match load_run(&state, &id).await {
        Ok(run) => run,
        Err(e) => return error_page(&e),
    };
    let run_for_work = run.clone();
    let rendered = blocking(&state, move |inner| {
        let check = verify(inner, &run_for_work);
        let view = match RunKind::parse(&run_for_work.summary.kind) {
            Some(RunKind::Train) => train_input(inner, &run_for_work.summary.origin, &run_for_work.input_text)
                .map(|r| train_fragment(&r)),
            _ => plan_input(inner, &run_for_work.summary.origin, &run_for_work.input_text).map(|r| {
                format!(
                    "<iframe id=\"report\" class=\"report\" title=\"Plan report\" sandbox=\"allow-same-origin\" srcdoc=\"{}\"></iframe>",
                    esc(&report::plan_html(&r))
                )
            }),
        };
        (check, view)
    })
    .await;
    let (check, view) = match rendered {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    let s = &run.summary;
    let result: Value = serde_json::from_str(&run.result_json).unwrap_or(Value::Null);
    let reproduces = if check["reproduces"].as_bool() == Some(true) {
        "<span class=\"ok\">yes: rerunning the input now gives the same result</span>".to_string()
    } else {
        format!(
            "<strong>no</strong>: the engine ({} now) or catalog (<code>{}</code> now) changed the result{}",
            esc(engine::ENGINE_VERSION),
            esc(&state.inner.catalog.version),
            check["error"]
                .as_str()
                .map(|e| format!("; the input now fails: <pre class=\"messages\">{}</pre>", esc(e)))
                .unwrap_or_default()
        )
    };
    let editor = if s.kind == "train" { "/train" } else { "/plan" };
    let mut body = format!(
        "<h1>Run #{} · {}</h1>\
         <dl class=\"meta\"><dt>kind</dt><dd>{}</dd><dt>saved</dt><dd>{}</dd><dt>input</dt><dd>{}</dd>\
         <dt>input hash</dt><dd><code>{}</code></dd><dt>engine</dt><dd>{}</dd><dt>catalog</dt><dd><code>{}</code></dd>\
         <dt>reproduces</dt><dd id=\"reproduces\">{reproduces}</dd></dl>\
         <div class=\"row\"><a href=\"{editor}?run={0}\">Open in the editor</a> · <a href=\"/api/runs/{0}\">JSON</a> · \
         <a href=\"/runs?a={0}\">Compare…</a> \
         <button class=\"danger\" data-delete=\"{0}\" data-after=\"/runs\">Delete</button></div>",
        s.id,
        esc(&s.name),
        esc(&s.kind),
        fmt_time(s.created_unix_ms),
        esc(&s.origin),
        esc(&s.input_hash),
        esc(&s.engine_version),
        esc(&s.catalog_version),
    );
    body += "<h2>Key outputs (as saved)</h2><table>";
    let keys: &[(&str, &str)] = if s.kind == "train" {
        &crate::TRAIN_KEYS
    } else {
        &crate::PLAN_KEYS
    };
    for (pointer, label) in keys {
        let v = result.pointer(pointer).cloned().unwrap_or(Value::Null);
        let _ = write!(
            body,
            "<tr><th>{}</th><td class=\"num\">{}</td></tr>",
            esc(label),
            esc(&fmt_output(pointer.rsplit('/').next().unwrap_or(""), &v))
        );
    }
    body += "</table><h2>Input</h2>";
    let _ = write!(body, "<pre>{}</pre><h2>Result</h2>", esc(&run.input_text));
    match view {
        Ok(html) => body += &html,
        Err(e) => {
            let _ = write!(body, "<pre class=\"messages\">{}</pre>", esc(&e.message));
        }
    }
    page(&format!("Run #{}", s.id), "Runs", &body, "")
}

/// Two plans' facility power over time, as one SVG line chart.
fn timeline_chart(a: &Value, b: &Value, label_a: &str, label_b: &str) -> Option<String> {
    let series = |v: &Value| -> Option<Vec<(String, f64)>> {
        v.get("timeline")?
            .as_array()?
            .iter()
            .map(|row| Some((plain(row.get("month")?), row.get("facility_gw")?.as_f64()?)))
            .collect()
    };
    let (sa, sb) = (series(a)?, series(b)?);
    let mut months: Vec<String> = sa.iter().chain(sb.iter()).map(|p| p.0.clone()).collect();
    months.sort();
    months.dedup();
    if months.len() < 2 {
        return None;
    }
    let max = sa
        .iter()
        .chain(sb.iter())
        .map(|p| p.1)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let (w, h, left, top, bottom) = (760.0, 260.0, 50.0, 14.0, 40.0);
    let x = |m: &str| {
        let i = months.iter().position(|x| x == m).unwrap_or(0) as f64;
        left + (w - left - 20.0) * i / (months.len() - 1) as f64
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    let mut out = format!(
        "<svg class=\"chart\" id=\"compare-chart\" role=\"img\" aria-label=\"Facility power over time\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" xmlns=\"http://www.w3.org/2000/svg\"><title>Facility power over time, GW</title>"
    );
    for frac in [0.0, 0.5, 1.0] {
        let (x2, ty, label) = (w - 20.0, y(max * frac), trim_number(max * frac));
        let tx = left - 6.0;
        let _ = write!(
            out,
            "<line x1=\"{left}\" x2=\"{x2:.1}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"#d9dee7\"/><text x=\"{tx:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6474\">{label}</text>",
            ty + 4.0
        );
    }
    for (i, m) in [(0, &months[0]), (1, &months[months.len() - 1])] {
        let anchor = if i == 0 { "start" } else { "end" };
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#5b6474\">{}</text>",
            x(m),
            h - bottom + 16.0,
            esc(m)
        );
    }
    for (i, (points, label)) in [(&sa, label_a), (&sb, label_b)].into_iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .map(|(m, v)| format!("{:.1},{:.1}", x(m), y(*v)))
            .collect();
        let dash = if i == 1 {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash} points=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"{0}\">{}</text>",
            PALETTE[i],
            path.join(" "),
            left + 10.0 + 260.0 * i as f64,
            h - 6.0,
            esc(label)
        );
    }
    out += "</svg>";
    Some(out)
}

pub async fn compare_page(
    State(state): State<AppState>,
    Query(query): Query<CompareQuery>,
) -> Response {
    let (a, b) = match load_pair(&state, query).await {
        Ok(pair) => pair,
        Err(e) => return error_page(&e),
    };
    let c = compare(&a, &b);
    let mut body = format!(
        "<h1>Run #{} vs run #{}</h1><table><tr><th></th><th>A: <a href=\"/runs/{0}\">#{0}</a> {}</th><th>B: <a href=\"/runs/{1}\">#{1}</a> {}</th></tr>",
        a.summary.id,
        b.summary.id,
        esc(&a.summary.name),
        esc(&b.summary.name)
    );
    for (label, va, vb) in [
        ("kind", &a.summary.kind, &b.summary.kind),
        ("input hash", &a.summary.input_hash, &b.summary.input_hash),
        (
            "engine",
            &a.summary.engine_version,
            &b.summary.engine_version,
        ),
        (
            "catalog",
            &a.summary.catalog_version,
            &b.summary.catalog_version,
        ),
    ] {
        let _ = write!(
            body,
            "<tr><th>{label}</th><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(va),
            esc(vb)
        );
    }
    body += "</table><h2>Key outputs</h2><table id=\"outputs\"><tr><th>output</th><th>A</th><th>B</th><th>B − A</th><th>B / A</th></tr>";
    for o in c["outputs"].as_array().into_iter().flatten() {
        let key = o["key"].as_str().unwrap_or("");
        let last = key.rsplit('.').next().unwrap_or("");
        let ratio = o["ratio"]
            .as_f64()
            .map(|r| format!("{r:.3}×"))
            .unwrap_or_else(|| "—".into());
        let _ = write!(
            body,
            "<tr><th>{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(o["label"].as_str().unwrap_or("")),
            esc(&fmt_output(last, &o["a"])),
            esc(&fmt_output(last, &o["b"])),
            esc(&fmt_output(last, &o["difference"])),
            esc(&ratio)
        );
    }
    body += "</table>";
    let ra: Value = serde_json::from_str(&a.result_json).unwrap_or(Value::Null);
    let rb: Value = serde_json::from_str(&b.result_json).unwrap_or(Value::Null);
    if let Some(chart) = timeline_chart(
        &ra,
        &rb,
        &format!("A #{}", a.summary.id),
        &format!("B #{}", b.summary.id),
    ) {
        body += "<h2>Facility power over time, GW</h2>";
        body += &chart;
    }
    body += "<h2>Input differences</h2>";
    if c["same_input"].as_bool() == Some(true) {
        body += "<p>The inputs are identical (same hash).</p>";
    }
    body += "<pre class=\"diff\" id=\"diff\">";
    for line in c["input_diff"].as_array().into_iter().flatten() {
        let op = line["op"].as_str().unwrap_or("same");
        let sign = match op {
            "added" => "+ ",
            "removed" => "- ",
            _ => "  ",
        };
        let _ = write!(
            body,
            "<span class=\"{op}\">{sign}{}</span>",
            esc(line["text"].as_str().unwrap_or(""))
        );
    }
    body += "</pre>";
    page("Compare runs", "Runs", &body, "")
}

// ---------------------------------------------------------------------------------------------
// Serving, reliability, deal risk

/// Helpers the infer, reliability and risk pages share.
const SCRIPT_FIELDS: &str = r#"
function num(id) { const v = $(id).value.trim(); return v === '' ? undefined : Number(v); }
function text(id) { const v = $(id).value.trim(); return v === '' ? undefined : v; }
"#;

const SCRIPT_INFER: &str = r#"
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
"#;

const SCRIPT_RELIABILITY: &str = r#"
let seq = 0;
async function simulate() {
  const mine = ++seq;
  const body = {gpus: num('r-gpus'), days: num('r-days'), work_hours: num('r-work'), system: $('r-system').value,
    checkpoint_interval_min: num('r-interval'), checkpoint_write_s: num('r-write'), async_checkpoint: $('r-async').checked,
    restart_min: num('r-restart'), detection_min: num('r-detection'), repair_hours: num('r-repair'), spares: num('r-spares'),
    node_failures_per_1000_days: num('r-node'), planned_per_day: num('r-planned'), weibull_shape: num('r-weibull'),
    runs: num('r-runs'), seed: num('r-seed'), no_search: $('r-nosearch').checked};
  $('status').textContent = 'simulating…';
  const r = await postJson('/api/reliability?format=html', body);
  if (mine !== seq) return;
  if (!r.ok) { showError(await errorText(r)); $('status').textContent = 'not run: fix the inputs'; return; }
  showError('');
  $('result').innerHTML = await r.text();
  $('status').textContent = 'up to date';
}
$('run').addEventListener('click', simulate);
document.querySelectorAll('#inputs input').forEach((el) => el.addEventListener('keydown', (e) => { if (e.key === 'Enter') simulate(); }));
simulate();
"#;

const SCRIPT_RISK: &str = r#"
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
"#;

/// The serving spec the Infer page starts with.
pub const INFER_EXAMPLE: &str = r#"model = "llama3-70b"
[cluster]
system = "dgx-h100"
[serving]
tp = 4
precision = "fp8"
kv_precision = "bf16"
input_tokens = 2000
output_tokens = 500
ttft_slo_s = 2.0
tpot_slo_s = 0.05
mode = "server"
"#;

fn options_html<'a>(ids: impl Iterator<Item = &'a String>, selected: &str) -> String {
    let mut out = String::new();
    for id in ids {
        let s = if id == selected { " selected" } else { "" };
        let _ = write!(out, "<option{s}>{}</option>", esc(id));
    }
    out
}

fn cards_html(cards: &[(&str, String)]) -> String {
    let mut out = String::from("<div class=\"cards\">");
    for (label, value) in cards {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div></div>",
            esc(label),
            esc(value)
        );
    }
    out + "</div>"
}

fn precision_name(p: perf::Precision) -> String {
    format!("{p:?}").to_lowercase()
}

/// Serving results as an HTML fragment: headline cards for one result, and a table of every
/// layout (as `gigawatt infer` prints it).
/// A latency in ms, or a dash where there is none (an infeasible layout).
fn latency_ms(seconds: f64, digits: usize) -> String {
    if seconds.is_finite() {
        format!("{:.*} ms", digits, 1e3 * seconds)
    } else {
        "-".to_string()
    }
}

pub fn infer_fragment(results: &[engine::infer::InferResult], evaluated: Option<u64>) -> String {
    let mut out = String::new();
    if let Some(n) = evaluated {
        let _ = write!(
            out,
            "<p>{} layouts evaluated; the best {} by output tokens per second per accelerator.</p>",
            fmt_count(n as f64),
            results.len()
        );
    }
    if let [r] = results {
        if evaluated.is_none() {
            let _ = write!(
                out,
                "<p><strong>{}</strong> on {} × {}, {} input and {} output tokens per request ({} mode{}).</p>",
                esc(&r.model),
                fmt_count(r.gpus as f64),
                esc(&r.system),
                fmt_count(r.workload.input_tokens),
                fmt_count(r.workload.output_tokens),
                esc(&format!("{:?}", r.workload.mode).to_lowercase()),
                if r.workload.disaggregated { ", disaggregated" } else { "" }
            );
            if !r.feasible {
                let _ = write!(
                    out,
                    "<pre class=\"messages\" id=\"infeasible\">not feasible: {}</pre>",
                    esc(r.reason.as_deref().unwrap_or("no reason given"))
                );
            }
            out += &cards_html(&[
                ("output tokens/s", fmt_count(r.output_tokens_per_s)),
                ("per accelerator", fmt_count(r.output_tokens_per_s_per_gpu)),
                ("TTFT", latency_ms(r.ttft_s, 0)),
                ("TPOT", latency_ms(r.tpot_s, 1)),
                ("batch", r.batch.to_string()),
                ("KV cache", format!("{:.1} GiB", r.kv_cache_gib)),
            ]);
        }
    }
    out += "<table id=\"infer-table\"><tr><th>tp</th><th>pp</th><th>ep</th><th>precision</th><th>batch</th>\
            <th>tokens/s</th><th>per GPU</th><th>TPOT ms</th><th>TTFT ms</th><th>KV GiB</th><th>weights GiB</th><th>feasible</th></tr>";
    for r in results {
        let l = &r.layout;
        let feasible = if r.feasible {
            "yes".to_string()
        } else {
            format!("no: {}", r.reason.clone().unwrap_or_default())
        };
        let _ = write!(
            out,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{:.1}</td><td class=\"num\">{:.1}</td><td>{}</td></tr>",
            l.tp,
            l.pp,
            l.ep,
            precision_name(l.precision),
            r.batch,
            fmt_count(r.output_tokens_per_s),
            fmt_count(r.output_tokens_per_s_per_gpu),
            latency_ms(r.tpot_s, 1).trim_end_matches(" ms"),
            latency_ms(r.ttft_s, 0).trim_end_matches(" ms"),
            r.kv_cache_gib,
            r.weights_gib,
            esc(&feasible)
        );
    }
    out += "</table>";
    // Where the time of a decode step goes, one bar per feasible result: a chart, because the
    // split between weights, KV cache and communication is the point of comparing layouts.
    let bars: Vec<(String, &engine::infer::InferResult)> = results
        .iter()
        .filter(|r| r.feasible)
        .map(|r| {
            let l = &r.layout;
            let label = if results.len() == 1 {
                r.system.clone()
            } else {
                format!("tp {} pp {} ep {}", l.tp, l.pp, l.ep)
            };
            (label, r)
        })
        .collect();
    if !bars.is_empty() {
        let (chart, legend) = report::serving::step_chart(&bars);
        let _ = write!(
            out,
            "<figure id=\"decode-step\"><h3>Where a decode step's time goes</h3>{chart}{legend}</figure>"
        );
    }
    if let [r] = results {
        out +=
            "<details id=\"infer-assumptions\"><summary>What these figures rest on</summary><ul>";
        for a in &r.assumptions {
            let _ = write!(out, "<li>{}</li>", report::prose_html(a));
        }
        out += "</ul></details>";
    }
    out
}

pub async fn infer_page(State(state): State<AppState>) -> Response {
    let catalog = &state.inner.catalog;
    let body = format!(
        "<h1>Serving a model</h1>\
         <div class=\"grid\"><div>\
         <p class=\"muted\">A serving spec: model, system, layout (tp, pp, ep), precision, traffic and latency targets \
         (format: \"Serving a model\" in the README). It reruns as you type.</p>\
         <textarea id=\"spec\" data-editor spellcheck=\"false\" aria-label=\"Serving spec (TOML)\">{}</textarea>\
         <pre id=\"messages\" class=\"messages\" role=\"alert\" hidden></pre>\
         <div class=\"row\"><button id=\"run\">Run</button> <span id=\"status\" class=\"muted\"></span></div>\
         <h2>Result</h2><div id=\"result\"></div>\
         </div><div><fieldset><legend>Search layouts</legend>\
         <label>Model <select id=\"s-model\">{}</select></label>\
         <label>System <select id=\"s-system\">{}</select></label>\
         <label>Input tokens <input type=\"number\" id=\"s-in\" value=\"2000\"></label>\
         <label>Output tokens <input type=\"number\" id=\"s-out\" value=\"500\"></label>\
         <label>TTFT target, s <input type=\"number\" step=\"any\" id=\"s-ttft\" value=\"2\"></label>\
         <label>TPOT target, s <input type=\"number\" step=\"any\" id=\"s-tpot\" value=\"0.05\"></label>\
         <label>Mode <select id=\"s-mode\"><option selected>server</option><option>offline</option></select></label>\
         <label class=\"check\"><input type=\"checkbox\" id=\"s-disagg\"> disaggregated prefill and decode</label>\
         <label>Precision <select id=\"s-precision\"><option>bf16</option><option selected>fp8</option><option>fp4</option></select></label>\
         <label>Top <input type=\"number\" id=\"s-top\" value=\"5\"></label>\
         <div class=\"row\"><button id=\"search\" class=\"plain\">Search</button></div></fieldset>\
         <div id=\"search-result\"></div></div></div>",
        esc(INFER_EXAMPLE),
        options_html(catalog.models.keys(), "llama3-70b"),
        options_html(catalog.systems.keys(), "dgx-h100"),
    );
    page(
        "Infer",
        "Infer",
        &body,
        &format!("{SCRIPT_FIELDS}{SCRIPT_INFER}"),
    )
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn fmt_hours(h: f64) -> String {
    if h >= 48.0 {
        format!("{:.1} days", h / 24.0)
    } else if h >= 1.0 {
        format!("{h:.2} h")
    } else {
        format!("{:.1} min", h * 60.0)
    }
}

/// A reliability report as an HTML fragment: headline cards, where the wall clock went, the
/// interruptions by cause, and the assumptions with their sources.
pub fn reliability_fragment(r: &reliability::Report) -> String {
    let i = &r.inputs;
    let s = &r.summary;
    let horizon = match (i.work_hours, i.days) {
        (Some(w), _) => format!("until {} work-hours are done", fmt_count(w)),
        (None, Some(d)) => format!("{d} days"),
        (None, None) => String::new(),
    };
    let mut out = format!(
        "<p><strong>{} accelerators</strong> on {} ({} systems of {}, {} hot spares), {}, {} runs, seed {}. \
         Failures {} ({:.1} per day); checkpoint every {:.1} min, {} {:.1} s; detect {:.1} min, restart {:.1} min, repair {:.0} h.</p>",
        fmt_count(i.gpus as f64),
        esc(&i.system),
        fmt_count(i.systems as f64),
        i.accelerators_per_system,
        fmt_count(i.spares as f64),
        esc(&horizon),
        r.runs,
        r.seed,
        esc(&i.failure_distribution),
        i.failures_per_day,
        i.checkpoint_interval_min,
        i.checkpoint_mode,
        i.checkpoint_write_s,
        i.detection_min,
        i.restart_min,
        i.repair_hours,
    );
    let mut cards = vec![
        ("ETTR (useful / wall clock)", pct(r.ettr)),
        (
            "ETTR, p5 to p95 of runs",
            format!("{} to {}", pct(s.ettr.p5), pct(s.ettr.p95)),
        ),
        ("ETTR, closed form", pct(r.expected_ettr)),
        (
            "unexpected interruptions per run",
            format!("{:.1}", r.unexpected_interruptions),
        ),
        (
            "planned interruptions per run",
            format!("{:.1}", r.planned_interruptions),
        ),
        (
            "mean time to interruption",
            r.mtti_hours.map_or("no interruptions".into(), fmt_hours),
        ),
        match r.optimal_checkpoint_interval_min {
            Some(m) => ("best checkpoint interval, simulated", format!("{m:.1} min")),
            // Not searched: the closed form's optimum, said to be one.
            None => (
                "best checkpoint interval, closed form",
                s.expected
                    .optimal_interval_min
                    .map_or("—".into(), |m| format!("{m:.1} min")),
            ),
        },
        (
            "Young-Daly interval",
            r.young_daly_interval_min
                .map_or("—".into(), |m| format!("{m:.1} min")),
        ),
        (
            "spares needed (p95)",
            format!("{:.0} systems", r.spares_needed),
        ),
    ];
    if let Some(t) = r.time_to_finish_hours {
        cards.push(("time to finish", fmt_hours(t)));
    } else if s.runs_finished == Some(0) {
        cards.push(("time to finish", "did not finish".into()));
    }
    out += &cards_html(&cards);
    let l = &r.lost_hours;
    let wall = s.wall_hours.mean.max(f64::MIN_POSITIVE);
    out += "<h3>Where the wall clock went (mean per run)</h3><table id=\"wall-clock\"><tr><th>part</th><th>time</th><th>share</th></tr>";
    for (name, hours) in [
        ("useful work", s.useful_hours.mean),
        ("rolled-back work", l.rollback),
        ("detection", l.detection),
        ("waiting for spares", l.waiting_for_spares),
        ("restart", l.restart),
        ("checkpoint stalls", l.checkpoint),
        ("planned maintenance", l.planned),
    ] {
        let _ = write!(
            out,
            "<tr><th>{name}</th><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            fmt_hours(hours),
            pct(hours / wall)
        );
    }
    out += "</table><h3>Unexpected interruptions by cause (mean per run)</h3>\
            <table id=\"by-cause\"><tr><th>cause</th><th>count</th><th>share</th><th>lost work</th><th>downtime</th></tr>";
    let mut causes: Vec<_> = r.by_cause.iter().collect();
    causes.sort_by(|a, b| b.1.interruptions.total_cmp(&a.1.interruptions));
    for (id, c) in causes {
        let _ = write!(
            out,
            "<tr><td><code>{}</code> {}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(id),
            esc(&c.name),
            c.interruptions,
            pct(c.share),
            fmt_hours(c.lost_work_hours),
            fmt_hours(c.downtime_hours)
        );
    }
    out += "</table><details><summary>Assumptions and sources</summary><ul>";
    for a in &r.assumptions {
        let _ = write!(
            out,
            "<li><span class=\"nw\">{}</span> = {} {} <span class=\"muted nw\">[{}]</span></li>",
            esc(&a.name),
            trim_number(a.value),
            report::prose_html(&a.unit),
            esc(&a.source)
        );
    }
    out += "</ul><ul>";
    for source in &r.sources {
        let title = match &source.url {
            Some(url) if linkable(url) => format!(
                "<a href=\"{}\" rel=\"noreferrer\">{}</a>",
                esc(url),
                report::prose_html(&source.title)
            ),
            _ => report::prose_html(&source.title),
        };
        let _ = write!(
            out,
            "<li><code>{}</code> {title} <span class=\"muted nw\">({}, {})</span></li>",
            esc(&source.id),
            esc(&source.kind),
            esc(&source.date)
        );
    }
    out += "</ul></details>";
    out
}

pub async fn reliability_page(State(state): State<AppState>) -> Response {
    let field = |id: &str, label: &str, value: &str, hint: &str| {
        format!(
            "<label>{label} <input type=\"number\" step=\"any\" id=\"{id}\" value=\"{value}\" placeholder=\"{hint}\"></label>"
        )
    };
    let body = format!(
        "<h1>Reliability at scale</h1>\
         <p class=\"muted\">One synchronous training job: failures, checkpoints, restarts and spares, simulated (\"Reliability at scale\" in the README). \
         Empty fields take the sourced defaults. The server simulates at most {} accelerators, {} runs, {} days and an expected {} simulation events a request (the interval search multiplies the events about eightfold; skip it for larger jobs); larger jobs: <code>gigawatt reliability</code>.</p>\
         <div class=\"grid\"><div id=\"inputs\">\
         <fieldset><legend>Job</legend>{}{}{}\
         <label>System <select id=\"r-system\">{}</select></label>{}{}</fieldset>\
         <fieldset><legend>Checkpoints and recovery</legend>{}{}\
         <label class=\"check\"><input type=\"checkbox\" id=\"r-async\"> asynchronous checkpoints</label>{}{}{}{}</fieldset>\
         <fieldset><legend>Failures</legend>{}{}{}</fieldset>\
         <label class=\"check\"><input type=\"checkbox\" id=\"r-nosearch\"> skip the checkpoint-interval search</label>\
         <div class=\"row\"><button id=\"run\">Simulate</button> <span id=\"status\" class=\"muted\"></span></div>\
         </div><div>\
         <pre id=\"messages\" class=\"messages\" role=\"alert\" hidden></pre>\
         <div id=\"result\"></div></div></div>",
        fmt_count(crate::models::MAX_RELIABILITY_GPUS as f64),
        crate::models::MAX_RELIABILITY_RUNS,
        crate::models::MAX_RELIABILITY_DAYS,
        fmt_count(crate::models::MAX_RELIABILITY_EVENTS),
        field("r-gpus", "Accelerators", "16384", "e.g. 16384"),
        field("r-days", "Days", "54", "e.g. 54"),
        field("r-work", "Work hours (instead)", "", "run until done"),
        options_html(state.inner.catalog.systems.keys(), "dgx-h100"),
        field("r-runs", "Runs", "20", "20"),
        field("r-seed", "Seed", "1", "1"),
        field("r-interval", "Checkpoint every, min", "", "60"),
        field("r-write", "Checkpoint write, s", "", "148.8"),
        field("r-restart", "Restart, min", "", "10"),
        field("r-detection", "Detection, min", "", "2.5"),
        field("r-repair", "Repair, hours", "", "48"),
        field("r-spares", "Hot spare systems", "", "5% of systems"),
        field(
            "r-node",
            "Node failures per 1,000 days",
            "",
            "per cause (Llama 3)"
        ),
        field("r-planned", "Planned per day", "", "0.87"),
        field("r-weibull", "Weibull shape", "", "exponential"),
    );
    page(
        "Reliability",
        "Reliability",
        &body,
        &format!("{SCRIPT_FIELDS}{SCRIPT_RELIABILITY}"),
    )
}

pub async fn risk_page(State(state): State<AppState>) -> Response {
    let (text, notice) = match &state.inner.risk_portfolio {
        Some(p) => (
            p.text.clone(),
            format!(
                "<p class=\"muted\">Starting from the shipped portfolio <code>{}</code>; its plan must be a shipped scenario ({}).</p>",
                esc(&p.name),
                state
                    .inner
                    .scenarios
                    .iter()
                    .map(|s| format!("<code>{}</code>", esc(&s.name)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        None => (
            String::new(),
            "<p class=\"messages\">This server has no shipped portfolio: paste one.</p>".into(),
        ),
    };
    let body = format!(
        "<h1>Deal risk</h1>{notice}\
         <div class=\"grid\"><div>\
         <p class=\"muted\">A portfolio: the plan it samples and each deal's odds of proceeding, being cut, delayed or collapsing \
         (format: \"Deal risk\" in the README).</p>\
         <textarea id=\"portfolio\" data-editor spellcheck=\"false\" aria-label=\"Portfolio (TOML)\">{}</textarea>\
         <pre id=\"messages\" class=\"messages\" role=\"alert\" hidden></pre>\
         <div class=\"row\"><button id=\"run\">Run</button> <span id=\"status\" class=\"muted\"></span></div>\
         </div><div id=\"options\"><fieldset><legend>Sampling</legend>\
         <label>Samples <input type=\"number\" id=\"k-samples\" value=\"{}\"></label>\
         <label>Seed <input type=\"number\" id=\"k-seed\" placeholder=\"the file's, else 1\"></label></fieldset>\
         <fieldset><legend>P(at least X GW online by a month)</legend>\
         <label>At least, GW <input type=\"number\" step=\"any\" id=\"k-gw\" placeholder=\"e.g. 5\"></label>\
         <label>By (YYYY-MM) <input type=\"text\" id=\"k-by\" placeholder=\"e.g. 2028-12\"></label></fieldset>\
         <p class=\"muted\">At most {} samples here; more with <code>gigawatt risk --samples N</code>.</p></div></div>\
         <h2>Report</h2>\
         <iframe id=\"report\" class=\"report\" title=\"Risk report\" sandbox=\"allow-same-origin\"></iframe>",
        esc(&text),
        crate::models::DEFAULT_RISK_SAMPLES,
        fmt_count(crate::models::MAX_RISK_SAMPLES as f64),
    );
    page(
        "Risk",
        "Risk",
        &body,
        &format!("{SCRIPT_FIELDS}{SCRIPT_RISK}"),
    )
}
