function pickB() {
  const a = $('cmp-a').selectedOptions[0], b = $('cmp-b');
  if (!a) return;
  const cur = b.selectedOptions[0];
  if (cur && cur.value !== a.value && cur.dataset.kind === a.dataset.kind) return;
  const same = Array.from(b.options).find((o) => o.value !== a.value && o.dataset.kind === a.dataset.kind);
  if (same) { b.value = same.value; $('cmp-note').textContent = ''; }
  else { $('cmp-note').textContent = 'no other ' + a.dataset.kind + ' run to compare with'; }
}
if ($('cmp-a')) { $('cmp-a').addEventListener('change', pickB); }
