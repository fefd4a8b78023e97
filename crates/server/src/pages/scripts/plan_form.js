const SIZE_KEYS = ['facility_gw', 'it_gw', 'systems'];
// The [[tranche]] blocks of a scenario: the line span of each and its `key = value` lines.
function tranchesOf(text) {
  const lines = text.split('\n'), blocks = [];
  let cur = null;
  lines.forEach((l, i) => {
    if (/^\s*\[\[\s*tranche\s*\]\]\s*(#.*)?$/.test(l)) { cur = {header: i, end: i + 1, keys: {}}; blocks.push(cur); return; }
    if (/^\s*\[/.test(l)) { cur = null; return; }
    if (!cur) return;
    cur.end = i + 1;
    const m = l.match(/^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/);
    if (!m) return;
    let raw = m[2], value = raw;
    const s = raw.match(/^"((?:[^"\\]|\\.)*)"/);
    if (s) value = s[1];
    else { const t = raw.match(/^\{\s*value\s*=\s*([^,}]+)/); value = (t ? t[1] : raw.replace(/#.*$/, '')).trim(); }
    cur.keys[m[1]] = {line: i, value};
  });
  return blocks;
}
// Sets (or with `literal` null removes) `key` in tranche k, touching no other line.
function setTrancheKey(text, k, key, literal) {
  const lines = text.split('\n'), b = tranchesOf(text)[k];
  if (!b) return text;
  const at = b.keys[key];
  if (literal === null) { if (at) lines.splice(at.line, 1); return lines.join('\n'); }
  if (at) lines[at.line] = key + ' = ' + literal;
  else lines.splice(b.header + 1, 0, key + ' = ' + literal);
  return lines.join('\n');
}
let formTimer = null;
function formEdit(k, key, literal, removeKeys) {
  let text = $('scenario').value;
  for (const other of removeKeys || []) text = setTrancheKey(text, k, other, null);
  text = setTrancheKey(text, k, key, literal);
  $('scenario').value = text; renumber($('scenario')); markStale(true);
  clearTimeout(formTimer); formTimer = setTimeout(runPlan, 500);
}
function cellInput(label, value, type, onChange) {
  const input = document.createElement('input');
  input.type = type; input.value = value; input.setAttribute('aria-label', label);
  if (type === 'number') input.step = 'any';
  input.addEventListener('change', () => onChange(input.value.trim()));
  return input;
}
function drawTrancheForm() {
  const box = $('tranche-form'); if (!box || box.contains(document.activeElement)) return;
  const systems = Array.from($('price-system').options).map((o) => o.value);
  const blocks = tranchesOf($('scenario').value);
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr><th scope="col">Tranche</th><th scope="col">System</th><th scope="col">Size</th><th scope="col">Start</th><th scope="col">Ramp, months</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>';
  const body = document.createElement('tbody');
  blocks.forEach((b, k) => {
    const name = (b.keys.name || {}).value || ('tranche ' + (k + 1));
    const row = document.createElement('tr');
    const td = () => { const c = document.createElement('td'); row.append(c); return c; };
    td().append(cellInput('Tranche ' + (k + 1) + ' name', name, 'text', (v) => formEdit(k, 'name', tomlString(v))));
    const sel = document.createElement('select'); sel.setAttribute('aria-label', name + ': system');
    for (const id of systems) { const o = document.createElement('option'); o.textContent = id; sel.append(o); }
    sel.value = (b.keys.system || {}).value || '';
    sel.addEventListener('change', () => formEdit(k, 'system', tomlString(sel.value)));
    td().append(sel);
    const sizeKey = SIZE_KEYS.find((s) => b.keys[s]) || 'facility_gw';
    const size = td();
    const unit = document.createElement('select'); unit.setAttribute('aria-label', name + ': size in');
    for (const [key, text] of [['facility_gw', 'GW facility'], ['it_gw', 'GW IT'], ['systems', 'systems']]) {
      const o = document.createElement('option'); o.value = key; o.textContent = text; unit.append(o);
    }
    unit.value = sizeKey;
    const amount = cellInput(name + ': size', (b.keys[sizeKey] || {}).value || '', 'number', (v) => {
      if (v !== '' && Number.isFinite(Number(v))) formEdit(k, unit.value, String(Number(v)), SIZE_KEYS.filter((s) => s !== unit.value));
    });
    amount.className = 'narrow';
    unit.addEventListener('change', () => { if (amount.value.trim() !== '') formEdit(k, unit.value, String(Number(amount.value)), SIZE_KEYS.filter((s) => s !== unit.value)); });
    size.append(amount, ' ', unit);
    td().append(cellInput(name + ': start (YYYY-MM)', (b.keys.start || {}).value || '', 'text', (v) => formEdit(k, 'start', v === '' ? null : tomlString(v))));
    td().append(cellInput(name + ': ramp months', (b.keys.ramp_months || {}).value || '', 'number', (v) => formEdit(k, 'ramp_months', v === '' ? null : String(Number(v)))));
    const remove = document.createElement('button'); remove.type = 'button'; remove.className = 'plain';
    remove.textContent = 'Remove'; remove.setAttribute('aria-label', 'Remove ' + name);
    remove.addEventListener('click', () => {
      const lines = $('scenario').value.split('\n'); lines.splice(b.header, b.end - b.header);
      $('scenario').value = lines.join('\n'); renumber($('scenario')); drawTrancheForm(); runPlan();
    });
    td().append(remove);
    body.append(row);
  });
  table.append(body);
  box.textContent = ''; box.append(table);
}
$('add-tranche').addEventListener('click', () => {
  const system = $('price-system').value;
  $('scenario').value = $('scenario').value.replace(/\s*$/, '\n') + '\n[[tranche]]\nname = "New tranche"\nsystem = ' + tomlString(system) + '\nfacility_gw = 1.0\nstart = "2027-01"\n';
  renumber($('scenario')); drawTrancheForm(); runPlan();
});
$('scenario').addEventListener('input', () => { clearTimeout(formTimer); formTimer = setTimeout(drawTrancheForm, 700); });
drawTrancheForm();
