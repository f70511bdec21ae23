// The dashboard's one stylesheet. Served from /assets/app.css (same origin, so the CSP's
// style-src 'self' covers it) with a version in the URL for long caching.
export const APP_CSS = `
*,*::before,*::after{box-sizing:border-box}
:root{--ink:#14213d;--muted:#5b6475;--line:#dde1e8;--bg:#f6f7f4;--card:#fff;--brand:#0f766e;--brand-ink:#fff;
--danger:#b42318;--ok:#067647;--warn:#b54708;--radius:10px;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
body{margin:0;min-width:0}
a{color:var(--brand)}
img,svg{max-width:100%}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:10}
header.top{background:var(--ink);color:#fff}
header.top .bar{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;max-width:1100px;margin:0 auto;padding:10px 16px}
header.top .brand{font-weight:700;color:#fff;text-decoration:none;font-size:18px}
header.top .who{margin-left:auto;display:flex;flex-wrap:wrap;align-items:center;gap:8px;font-size:14px;color:#cfd6e4;min-width:0}
header.top .who span{overflow-wrap:anywhere}
nav.main{background:#fff;border-bottom:1px solid var(--line)}
nav.main ul{display:flex;flex-wrap:wrap;gap:2px 4px;list-style:none;margin:0 auto;padding:6px 12px;max-width:1100px}
nav.main a{display:block;padding:6px 10px;border-radius:8px;text-decoration:none;color:var(--ink);font-size:15px;white-space:nowrap}
nav.main a[aria-current=page]{background:var(--ink);color:#fff}
nav.main .count{display:inline-block;min-width:20px;margin-left:4px;padding:0 6px;border-radius:10px;background:var(--warn);color:#fff;font-size:12px;text-align:center}
main{max-width:1100px;margin:0 auto;padding:20px 16px 48px}
h1{font-size:clamp(22px,5vw,30px);line-height:1.2;margin:0 0 16px;overflow-wrap:anywhere}
h2,h3{overflow-wrap:anywhere}
code{overflow-wrap:anywhere}
h2{font-size:20px;margin:28px 0 12px}
h3{font-size:17px;margin:16px 0 8px}
p{margin:0 0 12px}
.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:16px;margin:0 0 16px;min-width:0}
.grid{display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(240px,1fr))}
.stat{font-size:28px;font-weight:700}
.notice{border-radius:8px;padding:10px 12px;margin:0 0 16px;background:#e7f6ec;color:var(--ok);border:1px solid #b7e4c7}
.notice.error{background:#fdecea;color:var(--danger);border-color:#f5c2bd}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:13px;border:1px solid var(--line);background:#f2f4f7;white-space:nowrap;max-width:100%;overflow-wrap:anywhere}
.chips .badge{white-space:normal}
.badge.ok{background:#e7f6ec;color:var(--ok);border-color:#b7e4c7}
.badge.warn{background:#fef4e6;color:var(--warn);border-color:#f9dbaf}
.badge.danger{background:#fdecea;color:var(--danger);border-color:#f5c2bd}
form.stack{display:grid;gap:12px;max-width:640px}
.field{display:grid;gap:4px;min-width:0}
.field label,.field legend{font-weight:600}
.field .hint{font-size:14px;color:var(--muted)}
.field .err{font-size:14px;color:var(--danger)}
.field [aria-invalid=true]{border-color:var(--danger)}
input[type=text],input[type=email],input[type=number],input[type=url],select,textarea{width:100%;max-width:100%;font:inherit;padding:8px 10px;border:1px solid #b9c0cc;border-radius:8px;background:#fff;color:inherit}
textarea{min-height:96px;resize:vertical}
fieldset{border:1px solid var(--line);border-radius:8px;padding:12px;margin:0;min-width:0}
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
button,.button{font:inherit;display:inline-block;padding:8px 14px;border-radius:8px;border:1px solid var(--brand);background:var(--brand);color:var(--brand-ink);cursor:pointer;text-decoration:none;line-height:1.3}
button.secondary,.button.secondary{background:#fff;color:var(--brand)}
button.danger{background:var(--danger);border-color:var(--danger)}
button.link{background:none;border:none;color:inherit;text-decoration:underline;padding:0}
button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
form.inline{display:inline}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:15px}
th,td{text-align:left;padding:8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#0f172a;color:#e2e8f0;padding:12px;border-radius:8px;font-size:14px;max-width:100%}
.chart{width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;padding:0;margin:8px 0 0;font-size:14px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:6px;vertical-align:-1px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.signin{max-width:420px;margin:8vh auto;padding:0 16px}
.signin .button{display:block;text-align:center;margin:0 0 10px}
footer{max-width:1100px;margin:0 auto;padding:16px;color:var(--muted);font-size:14px}
@media (max-width:600px){main{padding:16px 12px 40px}.card{padding:12px}th,td{padding:6px}}
`;
