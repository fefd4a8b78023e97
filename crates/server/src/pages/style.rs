//! The dashboard's stylesheet: one file for every page, with dark mode
//! (`prefers-color-scheme`), tables that scroll in their own frame with the first column fixed,
//! the editor's line-number gutter, and dimmed (stale) results while a new run is under way.
//! Served inline today; nothing in it needs `unsafe-inline` styles on elements, so a CSP that
//! hashes this one `<style>` block (or serves it as a file) accepts it.

/// The stylesheet.
pub(crate) const STYLE: &str = r##"
:root{color-scheme:light dark;--bg:#fff;--ink:#1d2330;--muted:#5b6474;--line:#d9dee7;--soft:#f4f6f9;--accent:#0061a0;--on-accent:#fff;--bad:#b3261e;--bad-bg:#fdecea;--bad-edge:#f1b0aa;--good:#00583f;--added:#e2f5e9;--removed:#fde7e6}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;background:var(--bg)}
header.top{background:#1d2330;color:#fff;padding:.5rem 1.2rem;display:flex;gap:1.4rem;align-items:center;flex-wrap:wrap}
header.top a{color:#dfe6f0;text-decoration:none}
header.top a.on{color:#fff;font-weight:650;border-bottom:2px solid #56B4E9}
header.top .brand{font-weight:700;color:#fff;margin-right:.6rem}
main{max-width:1760px;margin:0 auto;padding:1.2rem 1.2rem 3rem}
h1{font-size:1.5rem;margin:.3rem 0 .8rem}
h2{font-size:1.15rem;margin:1.6rem 0 .5rem;padding-bottom:.2rem;border-bottom:1px solid var(--line)}
a{color:var(--accent)}
textarea{width:100%;min-height:22rem;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;padding:.6rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--ink)}
input,select,button{font:inherit}
input[type=text],input[type=number],select{padding:.25rem .4rem;border:1px solid var(--muted);border-radius:4px;background:var(--bg);color:var(--ink)}
button,a.button{padding:.35rem .9rem;border:1px solid var(--accent);background:var(--accent);color:var(--on-accent);border-radius:5px;cursor:pointer;text-decoration:none;display:inline-block}
button.plain,a.button{background:var(--bg);color:var(--accent)}
button.danger{background:var(--bg);color:var(--bad);border-color:var(--bad)}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.row{display:flex;gap:.6rem;align-items:center;flex-wrap:wrap;margin:.5rem 0}
.grid{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,3fr);gap:1.2rem}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
fieldset{border:1px solid var(--line);border-radius:6px;margin:0 0 .8rem;padding:.5rem .8rem}
fieldset label{display:flex;justify-content:space-between;gap:.6rem;margin:.25rem 0;font-size:.9rem}
fieldset input{width:9rem}
.messages{white-space:pre-wrap;background:var(--bad-bg);color:var(--ink);border:1px solid var(--bad-edge);border-left:5px solid var(--bad);border-radius:6px;padding:.6rem .8rem;font:13px/1.4 ui-monospace,Menlo,Consolas,monospace;margin:.5rem 0}
.ok{color:var(--good)}
.muted{color:var(--muted)}
iframe.report{width:100%;height:1500px;border:1px solid var(--line);border-radius:6px}
table{border-collapse:separate;border-spacing:0;width:100%;font-size:.88rem}
th,td{padding:.35rem .55rem;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
th{background:var(--soft);white-space:nowrap}
td{white-space:nowrap}
td.note,td.prose{white-space:normal;min-width:24ch;max-width:60ch}
.timeline td.note{min-width:40ch;max-width:80ch}
tbody td{background:var(--bg)}
.table-wrap{overflow-x:auto;max-width:100%;margin:.3rem 0 1rem;border:1px solid var(--line);border-radius:6px}
.table-wrap tr>:first-child{position:sticky;left:0;z-index:1;box-shadow:1px 0 0 var(--line)}
.table-wrap tbody th{background:var(--bg);text-align:left;font-weight:400}
a.src{margin-left:.15em}
.fig{font-variant-numeric:tabular-nums}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
pre{background:var(--soft);padding:.6rem;border-radius:6px;overflow-x:auto;font-size:12.5px}
pre.diff span{display:block}
pre.diff .added{background:var(--added)}
pre.diff .removed{background:var(--removed)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;font-size:.9rem}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0;min-width:0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin:.6rem 0}
.card{border:1px solid var(--line);border-radius:8px;padding:.5rem .8rem}
.card .label{color:var(--muted);font-size:.8rem}
.card .value{font-size:1.25rem;font-weight:650}
svg.chart{max-width:100%;height:auto;display:block}
#result svg.chart,#search-result svg.chart{min-width:760px;max-width:1400px}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.3em;border-radius:2px;vertical-align:baseline}
details{margin:.2rem 0}
#search-result,#result{overflow-x:auto}
fieldset label.check{justify-content:flex-start}
fieldset label.check input{width:auto}
code{white-space:nowrap}
li,p{overflow-wrap:normal}
.nw{white-space:nowrap}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
#tranche-form input[type=text]{width:12em}
#tranche-form input.narrow{width:7em}
#tranche-form td{vertical-align:middle}
.stale{opacity:.45;filter:grayscale(.7);transition:opacity .2s}
.editor{display:grid;grid-template-columns:max-content 1fr;border:1px solid var(--line);border-radius:6px;overflow:hidden}
.editor textarea{border:0;border-radius:0;resize:vertical;white-space:pre;overflow:auto;outline-offset:-2px}
.editor .gutter{margin:0;padding:.6rem .4rem .6rem .6rem;background:var(--soft);color:var(--muted);font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;text-align:right;user-select:none;overflow:hidden;border-radius:0;min-width:3.2em}
.editor .gutter span{display:block}
.editor .gutter span.err{background:var(--bad);color:#fff;border-radius:2px}
.downloads{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center;margin:.4rem 0}
@media (prefers-color-scheme:dark){
:root{--bg:#12161d;--ink:#e4e8ef;--muted:#a3acba;--line:#343c4a;--soft:#1d232d;--accent:#6cb8f0;--on-accent:#0b0e13;--bad:#ff8a80;--bad-bg:#2e1614;--bad-edge:#6b2b26;--good:#7fd8b0;--added:#173322;--removed:#3a1a1a}
header.top{background:#0b0e13}
svg [fill="#1d2330"],svg[fill="#1d2330"]{fill:#e4e8ef}
svg [fill="#5b6474"]{fill:#a3acba}
svg [stroke="#e6e9ef"],svg g[stroke="#e6e9ef"]{stroke:#2c3340}
svg [stroke="#1d2330"]{stroke:#c9d0db}
iframe.report{background:#fff}
}
figure.chart-figure{margin:.6rem 0 1rem}
details.data-table>summary,#toml-details>summary{cursor:pointer;color:var(--accent)}
#toml-details{margin:.6rem 0}
#toml-details[open]>summary{margin-bottom:.4rem}
@media print{
:root{color-scheme:light;--bg:#fff;--ink:#000;--muted:#444;--line:#bbb;--soft:#eee;--accent:#000}
header.top,.downloads,button,#share{display:none}
main{max-width:none;padding:0}
details::details-content{content-visibility:visible;display:contents}
details>summary{list-style:none;font-weight:600}
.table-wrap,#result,#search-result{overflow:visible;border:0}
.table-wrap th:first-child,.table-wrap td:first-child{position:static;box-shadow:none}
tr,.card,figure{break-inside:avoid}
a{color:inherit}
a[href*="://"]::after,main a[href^="/"]::after{content:" (" attr(href) ")";font-size:.85em;overflow-wrap:anywhere}
.stale{opacity:1;filter:none}
}
"##;
