function num(id) { const v = $(id).value.trim(); return v === '' ? undefined : Number(v); }
function text(id) { const v = $(id).value.trim(); return v === '' ? undefined : v; }
