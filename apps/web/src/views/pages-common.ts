/** The page shell shared by the public pages and the admin console. */
import { type Html, html, type HtmlValue } from './html';

export interface LayoutOptions {
  title: string;
  body: HtmlValue;
  /** Which navigation to show. */
  section?: 'public' | 'admin' | 'login';
  /** Highlighted nav entry (its href). */
  current?: string;
  /** A one-line notice (flash) shown above the content. */
  notice?: { kind: 'ok' | 'error'; text: string } | null;
  /** The session's CSRF token (admin pages: the log-out form carries it). */
  csrf?: string;
}

const PUBLIC_NAV: [string, string][] = [
  ['/', 'Home'],
  ['/machines', 'Machines'],
  ['/problem-reports', 'Problem reports'],
  ['/log-entries', 'Log entries'],
  ['/part-requests', 'Part requests'],
];

/** Console navigation, in the order an admin works through a rollout. */
export const ADMIN_NAV: [string, string][] = [
  ['/admin', 'Overview'],
  ['/admin/settings', 'Settings'],
  ['/admin/webhooks', 'Webhooks'],
  ['/admin/deliveries', 'Deliveries'],
  ['/admin/queues', 'Queues'],
  ['/admin/health', 'Health'],
];

function nav(items: [string, string][], current: string | undefined): Html {
  return html`<nav aria-label="Main">${items.map(
    ([href, label]) => html`<a href="${href}"${current === href ? html` aria-current="page"` : ''}>${label}</a>`,
  )}</nav>`;
}

/** A full HTML document. */
export function layout(o: LayoutOptions): Html {
  const section = o.section ?? 'public';
  const brand = section === 'public' ? 'Flipfix' : 'Flipfix Notify · admin';
  const navigation =
    section === 'public'
      ? nav(PUBLIC_NAV, o.current)
      : section === 'admin'
        ? html`${nav(ADMIN_NAV, o.current)}<form method="post" action="/admin/logout" class="logout"><input type="hidden" name="_csrf" value="${o.csrf ?? ''}"><button type="submit" class="link">Log out</button></form>`
        : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · ${brand}</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body class="${section}">
<header><a class="brand" href="${section === 'public' ? '/' : '/admin'}">${brand}</a>${navigation}</header>
<main>
${o.notice ? html`<p class="notice ${o.notice.kind}" role="status">${o.notice.text}</p>` : ''}
${o.body}
</main>
</body>
</html>`;
}

/** An error page (404, 400, 500) in the public shell. */
export function errorPage(status: number, title: string, message: string): Html {
  return layout({
    title,
    body: html`<h1>${title}</h1><p>${message}</p><p class="muted">HTTP ${status}</p><p><a href="/">Back to the start page</a></p>`,
  });
}

/** "3 min ago" style, with the exact time as a tooltip. */
export function when(date: Date | null | undefined): Html {
  if (!date) return html`<span class="muted">—</span>`;
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  const rel =
    seconds < 60
      ? `${Math.max(seconds, 0)} s ago`
      : seconds < 3600
        ? `${Math.round(seconds / 60)} min ago`
        : seconds < 86_400
          ? `${Math.round(seconds / 3600)} h ago`
          : date.toISOString().slice(0, 10);
  return html`<time datetime="${date.toISOString()}" title="${date.toISOString()}">${rel}</time>`;
}

/** The stylesheet: small, no framework, readable on a phone. */
export const CSS = `
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f7f8fa;--card:#fff;--accent:#2454d6;--ok:#13795b;--bad:#b42318;--warn:#b54708;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);line-height:1.45}
*{box-sizing:border-box}body{margin:0}
header{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;padding:.75rem 1rem;background:#111827;color:#fff}
header a{color:#e5e7eb;text-decoration:none}header .brand{font-weight:700;color:#fff;margin-right:.5rem}
nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem}nav a[aria-current]{color:#fff;border-bottom:2px solid #93c5fd}
header form.logout{margin-left:auto}
button.link{background:none;border:0;color:#e5e7eb;padding:0;font:inherit;cursor:pointer;text-decoration:underline}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
a{color:var(--accent)}.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:1rem;margin:0 0 1rem}
.grid{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr))}
.stats{display:grid;gap:.5rem;grid-template-columns:repeat(auto-fit,minmax(8rem,1fr))}
.stat{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.6rem .8rem}.stat b{display:block;font-size:1.4rem}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input[type=text],input[type=password],input[type=url],input[type=number],input[type=search],select,textarea{width:100%;padding:.5rem;border:1px solid #cfd4dc;border-radius:.35rem;font:inherit;background:#fff}
textarea{min-height:6rem}
.check{display:flex;gap:.5rem;align-items:center;font-weight:400}
button,.button{display:inline-block;margin-top:.75rem;padding:.5rem .9rem;border:0;border-radius:.35rem;background:var(--accent);color:#fff;font:inherit;cursor:pointer;text-decoration:none}
button.secondary{background:#e4e7ec;color:var(--fg)}button.small{margin:0;padding:.25rem .6rem;font-size:.85rem}
.notice{padding:.6rem .8rem;border-radius:.35rem}.notice.ok{background:#ecfdf3;color:var(--ok)}.notice.error{background:#fef3f2;color:var(--bad)}.notice.warn{background:#fffaeb;color:var(--warn)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:var(--card);font-size:.92rem}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:1rem;font-size:.8rem;background:#eef2f6}
.badge.delivered,.badge.ok,.badge.open{background:#ecfdf3;color:var(--ok)}
.badge.failed,.badge.down,.badge.closed{background:#fef3f2;color:var(--bad)}
.badge.pending,.badge.sending,.badge.degraded{background:#fffaeb;color:var(--warn)}
.badge.skipped{background:#f2f4f7;color:var(--muted)}
.badge.held{background:#eff8ff;color:#175cd3}.badge.enabled{background:#ecfdf3;color:var(--ok)}.badge.disabled{background:#fef3f2;color:var(--bad)}
button.danger,.button.danger{background:var(--bad);color:#fff}.button.small{margin:0;padding:.25rem .6rem;font-size:.85rem}
.button.secondary{background:#e4e7ec;color:var(--fg)}
fieldset{border:1px solid var(--line);border-radius:.35rem;margin:.75rem 0 0;padding:.25rem .75rem .5rem}legend{font-weight:600;padding:0 .25rem}
fieldset[aria-invalid],input[aria-invalid],textarea[aria-invalid],select[aria-invalid]{border-color:var(--bad);border-width:2px}
.field-error{color:var(--bad);margin:.2rem 0 0;font-size:.9rem}
p.small,.small{font-size:.85rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.endpoint-head{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}.endpoint-head h2{margin:0}
.endpoint p{margin:.4rem 0}.endpoint .url code{font-size:.85rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:.6rem}.actions form{display:flex;gap:.35rem;align-items:center;margin:0}
.actions select{width:auto;max-width:14rem;padding:.25rem .4rem;font-size:.85rem}
.card>h2:first-child{margin-top:0}.rollout .stats{margin:.5rem 0;grid-template-columns:repeat(auto-fit,minmax(6.5rem,1fr))}.rollout h3{font-size:1rem;margin:1rem 0 .4rem}.notice{margin:.5rem 0}
table.events input[type=text]{min-width:8rem}
.photos{display:flex;flex-wrap:wrap;gap:.5rem}.photos img{max-width:12rem;max-height:12rem;border-radius:.35rem;border:1px solid var(--line);object-fit:cover}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
ul.list{list-style:none;padding:0;margin:0}ul.list li{padding:.6rem 0;border-bottom:1px solid var(--line)}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}.row>*{flex:1 1 10rem}
.inline{display:inline}.sm-only{display:none}
code{background:#f2f4f7;padding:0 .25rem;border-radius:.25rem;overflow-wrap:anywhere}
main h1,main h2,main p,main dd,main li,.card,.notice{overflow-wrap:anywhere}
.id,code.id{white-space:nowrap;overflow-wrap:normal}
button,.button{white-space:nowrap;overflow-wrap:normal}
.card>:first-child,form.card>input[type=hidden]:first-child+*{margin-top:0}.card>:last-child{margin-bottom:0}.row.top{align-items:start}
.filters{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:end}.filters>div{flex:1 1 12rem}.filters>div.filter-actions{flex:0 0 auto}.filters label{margin-top:0}
.filters button,.filters .button{margin-top:0}.filters input,.filters select{height:2.5rem}
ul.list.card{padding:0 1rem;margin:0 0 1rem}.log-actions{margin:0 0 .75rem}.log-actions button{margin-top:0}ul.list.card li:last-child{border-bottom:0}
.pager{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem 1rem;margin:1rem 0}
@media (max-width:40rem){main{padding:.75rem}h1{font-size:1.25rem}th,td{padding:.4rem .35rem}.hide-sm{display:none}
.stat{padding:.45rem .6rem}.stat b{font-size:1.2rem}
table.log thead{display:none}table.log,table.log tbody{display:block}
table.log tr{display:flex;flex-wrap:wrap;gap:.2rem .6rem;align-items:baseline;padding:.4rem .35rem;border-bottom:1px solid var(--line)}
table.log td{border:0;padding:0;max-width:100%}table.log td.event{flex-basis:100%;padding-top:.4rem}
table.log tr:has(td.event){border-top:2px solid var(--line)}
.sm-only{display:inline;color:var(--muted)}
table.events thead{display:none}table.events,table.events tbody{display:block}
table.events tr{display:grid;grid-template-columns:1fr 1fr;gap:.3rem .6rem;align-items:start;padding:.5rem 0;border-bottom:1px solid var(--line)}
table.events td{border:0;padding:0;min-width:0}table.events td:first-child{font-weight:600}table.events td:nth-child(2){justify-self:end}
table.events .sm-only{display:block;font-size:.8rem}}
`;
