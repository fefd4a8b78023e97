//! The stylesheet every HTML report shares (plan, risk, serving fleet): system fonts, a
//! full-width page with prose held to a readable measure, tables that fit or scroll inside
//! their own frame with a sticky first column, ids and dates that never break mid-word, dark
//! mode (`prefers-color-scheme`), and a print stylesheet that expands folded sections and
//! prints link targets. Pure CSS: the reports carry no JavaScript, and nothing here needs an
//! inline event handler, so a Content-Security-Policy with a style hash or nonce accepts it.
//!
//! The charts are inline SVG with presentation attributes in the light palette; the dark
//! scheme re-colours their ink, grid and muted text with attribute selectors, so the SVG
//! stays the same bytes in both schemes.

/// The reports' stylesheet.
pub(crate) const STYLE: &str = r##"
:root{color-scheme:light dark;--bg:#fff;--ink:#1d2330;--muted:#5b6474;--line:#d9dee7;--soft:#f4f6f9;--stripe:#fafbfc;--accent:#0061a0;--warn-bg:#fff6e0;--warn-line:#E69F00;--warn-edge:#f1d18a;--target:#fff3c4;--card:#fff}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.wrap{max-width:1760px;margin:0 auto;padding:28px clamp(12px,3vw,40px) 48px}
h1{font-size:1.9rem;line-height:1.2;margin:.1rem 0 .4rem}
h2{font-size:1.3rem;margin:2.2rem 0 .8rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{font-size:1.02rem;margin:1.4rem 0 .2rem}
p,li,figcaption,.sub{max-width:90ch}
a{color:var(--accent)}
code{font:.86em/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);padding:.05em .3em;border-radius:3px;white-space:nowrap}
.eyebrow{margin:0;color:var(--muted);font-size:.8rem;letter-spacing:.08em;text-transform:uppercase}
.desc{margin:.2rem 0 1rem;color:var(--ink);white-space:pre-line;max-width:90ch}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0;font-size:.88rem}
.meta dt{color:var(--muted)}
.meta dd{margin:0;min-width:0}
.meta dd code{white-space:normal;overflow-wrap:anywhere}
.callout{margin:1.4rem 0 0;padding:.8rem 1.1rem;background:var(--warn-bg);border:1px solid var(--warn-edge);border-left:5px solid var(--warn-line);border-radius:6px}
.callout h2{margin:0 0 .3rem;padding:0;border:0;font-size:1.02rem}
.callout ul{margin:0;padding-left:1.2rem}
.sub{margin:-.4rem 0 .8rem;color:var(--muted);font-size:.88rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:.7rem .9rem;background:var(--card);break-inside:avoid}
.card .label{color:var(--muted);font-size:.8rem}
.card .value{font-size:1.45rem;font-weight:650;font-variant-numeric:tabular-nums;margin:.1rem 0}
.card .value.unknown{color:var(--muted);font-weight:500;font-style:italic}
.card .detail{color:var(--muted);font-size:.78rem}
figure{margin:.4rem 0 1.4rem;break-inside:avoid;min-width:0}
figcaption{color:var(--muted);font-size:.85rem;margin:0 0 .3rem}
.multiples{display:grid;grid-template-columns:repeat(auto-fit,minmax(760px,1fr));gap:0 28px}
svg.chart{display:block;width:100%;max-width:1400px;height:auto}
svg.chart .hover rect:hover{fill-opacity:.07}
.table-wrap{overflow-x:auto;max-width:100%;margin:.3rem 0 1rem;border:1px solid var(--line);border-radius:6px}
table{border-collapse:separate;border-spacing:0;width:100%;font-size:.86rem}
th,td{padding:.38rem .6rem;text-align:left;vertical-align:top;border-bottom:1px solid var(--line);overflow-wrap:normal;word-break:normal;hyphens:manual}
th{background:var(--soft);font-weight:600;white-space:nowrap;border-bottom:2px solid var(--line)}
tbody tr:nth-child(even) td{background:var(--stripe)}
tbody td{background:var(--bg)}
.table-wrap th:first-child,.table-wrap td:first-child{position:sticky;left:0;z-index:1;white-space:nowrap;box-shadow:1px 0 0 var(--line)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td{white-space:nowrap}
td.note,td.prose{white-space:normal;min-width:28ch;max-width:60ch}
td.note{color:var(--ink)}
.nw,.nowrap{white-space:nowrap}
tr:target td{background:var(--target)!important}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.45em;vertical-align:-.05em}
.badge{display:inline-block;padding:.05em .5em;border-radius:999px;font-size:.8rem;background:#e8ecf2;color:#1d2330;white-space:nowrap}
.badge.good{background:#d7f0e6;color:#00583f}
.badge.info{background:#dbeaf7;color:#004f7c}
.badge.warn{background:#fde7cf;color:#8a3a00}
.badge.off{background:#eceef1;color:#4b5261}
.muted{color:var(--muted)}
details{margin:.6rem 0 1rem}
summary{cursor:pointer;color:var(--accent)}
summary:focus-visible,a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
footer{margin-top:2.6rem;padding-top:.8rem;border-top:1px solid var(--line);color:var(--muted);font-size:.82rem}
footer ul{margin:.3rem 0;padding-left:1.2rem}
@media (max-width:800px){.multiples{grid-template-columns:1fr}}
@media (max-width:640px){.wrap{padding:18px 12px 32px}h1{font-size:1.5rem}}
@media (prefers-color-scheme:dark){
:root{--bg:#12161d;--ink:#e4e8ef;--muted:#a3acba;--line:#343c4a;--soft:#1d232d;--stripe:#171c24;--accent:#6cb8f0;--warn-bg:#2b2312;--warn-line:#E69F00;--warn-edge:#6b5420;--target:#3a3413;--card:#171c24}
svg.chart [fill="#1d2330"],svg.chart[fill="#1d2330"]{fill:#e4e8ef}
svg.chart [fill="#5b6474"]{fill:#a3acba}
svg.chart [stroke="#1d2330"]{stroke:#c9d0db}
svg.chart [stroke="#e6e9ef"],svg.chart g[stroke="#e6e9ef"]{stroke:#2c3340}
svg.chart [stroke="#fff"]{stroke:#12161d}
svg.chart [fill="#fff"]{fill:#12161d}
svg.chart [fill="#000000"]{fill:#e4e8ef}
}
@media print{
:root{color-scheme:light;--bg:#fff;--ink:#000;--muted:#444;--line:#bbb;--soft:#eee;--stripe:#f7f7f7;--accent:#000;--card:#fff}
body{font-size:10.5pt}
.wrap{max-width:none;padding:0}
h2{break-after:avoid}
tr,.card,figure{break-inside:avoid}
details::details-content{content-visibility:visible;display:contents}
details>summary{list-style:none;font-weight:600;color:var(--ink)}
.table-wrap{overflow:visible;border:0}
.table-wrap th:first-child,.table-wrap td:first-child{position:static;box-shadow:none}
svg.chart .hover{display:none}
a{color:inherit}
a[href*="://"]::after{content:" (" attr(href) ")";font-size:.85em;overflow-wrap:anywhere}
.multiples{display:block}
}
"##;
