// The dashboard's pages as HTML strings: one layout (skip link, navigation, who is signed in, sign-out), then each
// page. Text is escaped with home.ts's escapeHtml; numbers and times are formatted the same way on every machine
// (English digits, UTC), so that a page says the same to every reader and its screenshots stay comparable.
import { escapeHtml } from "../http/home.ts";
import type { Session } from "./session.ts";
import { CAMPAIGN_STATUSES, type CampaignReport, type CampaignSummary, type Health, type LiveReport, type SenderUse, type Subscriber, type TimelineEntry } from "./queries.ts";

const e = escapeHtml;
const integer = new Intl.NumberFormat("en-US");
export const formatCount = (n: number) => integer.format(n);
/** A share as a percentage with one decimal; a dash without a denominator. */
export const formatShare = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "–");
const formatRate = (rate: number | null) => (rate === null ? "–" : `${(100 * rate).toFixed(1)}%`);
/** A time in UTC, to the minute: 2026-12-06 03:41 UTC. */
export const formatTime = (at: Date | null) => (at ? `${at.toISOString().slice(0, 16).replace("T", " ")} UTC` : "–");
/** A time in UTC, to the second (a subscriber's timeline): 2026-12-06 03:41:07 UTC. */
const formatInstant = (at: Date) => `${at.toISOString().slice(0, 19).replace("T", " ")} UTC`;
const formatSeconds = (s: number | null) => (s === null ? "–" : s < 10 ? `${s.toFixed(2)} s` : `${Math.round(s)} s`);

export interface Nav {
  path: string;
  label: string;
}

const NAV: Nav[] = [
  { path: "/campaigns", label: "Campaigns" },
  { path: "/subscribers", label: "Subscriber timeline" },
  { path: "/senders", label: "Senders" },
  { path: "/health", label: "Attribution health" },
];

export function layout(session: Session, options: { title: string; active: string; body: string; scripts?: string[] }): string {
  const nav = NAV.map((n) => `<li><a href="${n.path}"${n.path === options.active ? ' aria-current="page"' : ""}>${e(n.label)}</a></li>`).join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(options.title)} · Mailroom</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
${(options.scripts ?? []).map((s) => (s.endsWith(".css") ? `<link rel="stylesheet" href="${s}">` : `<script src="${s}" defer></script>`)).join("\n")}
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="top">
<p class="brand"><a href="/campaigns">Mailroom</a></p>
<nav aria-label="Dashboard"><ul>${nav}</ul></nav>
<form class="signout" method="post" action="/sign-out">
<input type="hidden" name="csrf" value="${e(session.csrf)}">
<span>Signed in as ${e(session.keyName)} (<span data-role>${e(session.role)}</span>)</span>
<button type="submit">Sign out</button>
</form>
</header>
<main id="main" tabindex="-1">
${options.body}
</main>
</body>
</html>
`;
}

/** A page saying why something was refused or not found (403, 404, 409), with a way back. */
export function messagePage(session: Session | undefined, title: string, message: string, back = "/campaigns"): string {
  const body = `<h1>${e(title)}</h1>\n<p class="error" role="alert">${e(message)}</p>\n<p><a href="${e(back)}">Back</a></p>`;
  if (session) return layout(session, { title, active: "", body });
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${e(title)} · Mailroom</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css"></head>
<body><main id="main">${body}</main></body>
</html>
`;
}

/** The sign-in form of the signed-out page (inside home.ts's page, whose style is inline). */
export function signInSection(options: { available: boolean; message?: string; error?: boolean }): string {
  if (!options.available) {
    return `<h2>Dashboard</h2>
<p>The dashboard needs the authenticator's database connection (<code>AUTH_DATABASE_URL</code>), which this process does not have.</p>
`;
  }
  return `<h2>Dashboard</h2>
<p>Sign in with an API key to see the campaigns, their reports, subscribers, senders and attribution health
(<code>mailroom api-keys create --role analyst --name me</code> makes one; an admin key may also pause, resume and cancel campaigns).</p>
${options.message ? `<p class="${options.error ? "error" : "note"}" role="${options.error ? "alert" : "status"}">${e(options.message)}</p>\n` : ""}<form method="post" action="/sign-in">
<label for="api-key">API key</label>
<input id="api-key" name="apiKey" type="password" autocomplete="current-password" required spellcheck="false" aria-describedby="api-key-help">
<p id="api-key-help">The key starts with <code>mrk_</code>. It stays on this server: the browser keeps a session cookie only.</p>
<button type="submit">Sign in</button>
</form>
`;
}

export function campaignsPage(session: Session, campaigns: CampaignSummary[], status: string | undefined): string {
  const options = [`<option value=""${status ? "" : " selected"}>Any status</option>`]
    .concat(CAMPAIGN_STATUSES.map((s) => `<option value="${s}"${s === status ? " selected" : ""}>${s}</option>`))
    .join("");
  const rows = campaigns
    .map(
      (c) => `<tr>
<th scope="row"><a href="/campaigns/${c.id}">${e(c.name)}</a> <span class="id">#${c.id}</span></th>
<td><span class="status status-${e(c.status)}">${e(c.status)}</span></td>
<td class="num">${formatCount(c.accepted)}</td>
<td class="num">${formatCount(c.delivered)}</td>
<td class="num">${formatRate(c.openRate)}</td>
<td class="num">${formatRate(c.clickRate)}</td>
<td class="num">${formatCount(c.bounces)}</td>
</tr>`,
    )
    .join("\n");
  const body = `<h1>Campaigns</h1>
<form class="filter" method="get" action="/campaigns">
<label for="status">Status</label>
<select id="status" name="status">${options}</select>
<button type="submit">Filter</button>
</form>
${
  campaigns.length === 0
    ? `<p>No campaign${status ? ` is ${e(status)}` : " yet"}.</p>`
    : `<div class="scroll"><table>
<caption>${formatCount(campaigns.length)} campaign${campaigns.length === 1 ? "" : "s"}${status ? `, ${e(status)}` : ""}, newest first. Rates are unique human opens and clicks over delivered messages.</caption>
<thead><tr><th scope="col">Campaign</th><th scope="col">Status</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Delivered</th><th scope="col" class="num">Human open rate</th><th scope="col" class="num">Human click rate</th><th scope="col" class="num">Bounces</th></tr></thead>
<tbody>
${rows}
</tbody>
</table></div>`
}`;
  return layout(session, { title: "Campaigns", active: "/campaigns", body });
}

/** Every number of the report that changes while the campaign runs, by the name of the cell that shows it. */
export function reportCells(report: LiveReport): Record<string, string> {
  const r = report.rollup;
  const cells: Record<string, string> = { status: report.campaign.status };
  const stage = (name: string, value: number, of: number) => {
    cells[name] = formatCount(value);
    cells[`${name}-share`] = formatShare(value, of);
  };
  stage("recipients", r.recipients, r.recipients);
  stage("accepted", r.accepted, r.recipients);
  stage("delivered", r.delivered, r.recipients);
  stage("opened-human", r.unique_opens_human, r.delivered);
  stage("opened-machine", r.unique_opens - r.unique_opens_human, r.delivered);
  stage("clicked-human", r.unique_clicks_human, r.delivered);
  stage("clicked-machine", r.unique_clicks - r.unique_clicks_human, r.delivered);
  cells["opens-human"] = formatCount(r.opens_human);
  cells["opens-machine"] = formatCount(r.opens - r.opens_human);
  cells["clicks-human"] = formatCount(r.clicks_human);
  cells["clicks-machine"] = formatCount(r.clicks - r.clicks_human);
  for (const name of ["queued", "sending", "bounced_hard", "bounced_soft", "delivery_failed", "quarantined", "filtered_spam", "suppressed", "send_failed", "skipped", "cancelled", "unknown_status", "expanded", "unsubscribes", "complaints"] as const) {
    cells[name.replace(/_/g, "-")] = formatCount(r[name]);
  }
  cells["unsubscribes-share"] = formatShare(r.unsubscribes, r.delivered);
  cells["complaints-share"] = formatShare(r.complaints, r.delivered);
  return cells;
}

const ACTIONS: Record<string, string[]> = {
  draft: ["cancel"],
  scheduled: ["cancel"],
  running: ["pause", "cancel"],
  paused: ["resume", "cancel"],
};

function controls(session: Session, campaignId: string, status: string): string {
  if (session.role !== "admin") return "";
  const actions = ACTIONS[status] ?? [];
  if (actions.length === 0) return "";
  const button = (action: string) =>
    action === "cancel"
      ? `<a class="button danger" href="/campaigns/${campaignId}/cancel">Cancel…</a>`
      : `<form method="post" action="/campaigns/${campaignId}/${action}"><input type="hidden" name="csrf" value="${e(session.csrf)}"><button type="submit" data-action="${action}">${action === "pause" ? "Pause" : "Resume"}</button></form>`;
  return `<div class="controls" aria-label="Campaign controls" role="group">${actions.map(button).join("")}</div>`;
}

const REASON_KINDS: Record<string, string> = {
  hard: "Hard bounce",
  soft: "Soft bounce",
  complaint: "Complaint",
  "send failed": "Refused when sent",
  skipped: "Skipped",
};

/** What the bounces, complaints and unsent messages said, most frequent first within each kind. */
function reasonsTable(report: CampaignReport): string {
  if (report.reasons.length === 0) return "<p>No bounce, complaint or unsent message.</p>";
  return `<div class="scroll"><table>
<caption>The reasons given: the delivery report's status and message, or the error when sending; the 10 most frequent of each kind, the rest as other reasons.</caption>
<thead><tr><th scope="col">Kind</th><th scope="col">Reason</th><th scope="col" class="num">Times</th><th scope="col">Last</th></tr></thead>
<tbody>
${report.reasons
  .map(
    (r, i) => `<tr><th scope="row">${e(REASON_KINDS[r.kind] ?? r.kind)}</th><td class="url">${
      r.reason === null && r.status === null
        ? // The row of other reasons comes after the first 10 of its kind; before that, none was given.
          report.reasons.slice(0, i).filter((x) => x.kind === r.kind).length >= 10 ? "<em>other reasons</em>" : "<em>none given</em>"
        : [r.status, r.reason].filter((x): x is string => !!x).map(e).join(": ")
    }</td><td class="num">${formatCount(r.events)}</td><td>${formatTime(r.lastAt)}</td></tr>`,
  )
  .join("\n")}
</tbody>
</table></div>`;
}

/** The JSON the page's script reads, safe inside a script element (no "<"). */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

export function campaignPage(session: Session, report: CampaignReport): string {
  const c = report.campaign;
  const cells = reportCells(report);
  const cell = (name: string, tag = "td") => `<${tag} class="num" data-cell="${name}">${e(cells[name] ?? "")}</${tag}>`;
  const stageRow = (label: string, name: string) => `<tr><th scope="row">${e(label)}</th>${cell(name)}${cell(`${name}-share`)}</tr>`;
  const reasonRow = (label: string, name: string) => `<tr><th scope="row">${e(label)}</th>${cell(name)}</tr>`;
  const links = report.links.length
    ? `<div class="scroll"><table>
<caption>The ${report.links.length === 50 ? "50 most clicked links" : "links clicked"}, by human clicks (clicks on unsubscribe links are not counted).</caption>
<thead><tr><th scope="col">Link</th><th scope="col" class="num">Human clicks</th><th scope="col" class="num">Messages clicked by a person</th><th scope="col" class="num">Machine clicks</th></tr></thead>
<tbody>
${report.links.map((l) => `<tr><th scope="row" class="url">${e(l.url)}</th><td class="num">${formatCount(l.clicksHuman)}</td><td class="num">${formatCount(l.messagesHuman)}</td><td class="num">${formatCount(l.clicksMachine)}</td></tr>`).join("\n")}
</tbody>
</table></div>`
    : "<p>No link clicked yet.</p>";
  const body = `<h1>${e(c.name)} <span class="id">#${c.id}</span></h1>
<p class="meta">Status <strong><span class="status" data-cell="status">${e(c.status)}</span></strong> · sender ${e(c.senderName ?? "–")} · started ${formatTime(c.startedAt)}</p>
${controls(session, c.id, c.status)}
<p id="live-status" class="live" role="status" aria-live="polite" data-live="/campaigns/${c.id}/live">Numbers as of loading the page.</p>
<section aria-labelledby="funnel-heading">
<h2 id="funnel-heading">Funnel</h2>
<div class="scroll"><table class="funnel">
<caption>Messages at each stage. Opened and clicked count messages, a person's apart from a machine's only (privacy proxies, link scanners); shares of opened and clicked are of delivered messages.</caption>
<thead><tr><th scope="col">Stage</th><th scope="col" class="num">Messages</th><th scope="col" class="num">Share</th></tr></thead>
<tbody>
${stageRow("Recipients", "recipients")}
${stageRow("Accepted by Azure", "accepted")}
${stageRow("Delivered", "delivered")}
${stageRow("Opened by a person", "opened-human")}
${stageRow("Opened by a machine only", "opened-machine")}
${stageRow("Clicked by a person", "clicked-human")}
${stageRow("Clicked by a machine only", "clicked-machine")}
</tbody>
</table></div>
<div class="scroll"><table>
<caption>Opens and clicks counted, every one (a message opened twice counts twice).</caption>
<thead><tr><th scope="col"></th><th scope="col" class="num">By people</th><th scope="col" class="num">By machines</th></tr></thead>
<tbody>
<tr><th scope="row">Opens</th>${cell("opens-human")}${cell("opens-machine")}</tr>
<tr><th scope="row">Clicks</th>${cell("clicks-human")}${cell("clicks-machine")}</tr>
</tbody>
</table></div>
</section>
<section aria-labelledby="time-heading">
<h2 id="time-heading">Opens and clicks over time</h2>
<div id="chart" class="chart" aria-hidden="true"></div>
<p id="chart-empty"${report.series.length ? " hidden" : ""}>No engagement yet.</p>
<details id="chart-table"${report.series.length ? "" : " hidden"}>
<summary>The chart's numbers, by hour</summary>
<div class="scroll"><table>
<caption>Opens and clicks per hour (UTC), all that count and those by people.</caption>
<thead><tr><th scope="col">Hour</th><th scope="col" class="num">Opens</th><th scope="col" class="num">Opens by people</th><th scope="col" class="num">Clicks</th><th scope="col" class="num">Clicks by people</th></tr></thead>
<tbody id="series-rows">
${report.series.map((h) => `<tr><th scope="row">${formatTime(new Date(h.hour))}</th><td class="num">${formatCount(h.opens)}</td><td class="num">${formatCount(h.opensHuman)}</td><td class="num">${formatCount(h.clicks)}</td><td class="num">${formatCount(h.clicksHuman)}</td></tr>`).join("\n")}
</tbody>
</table></div>
</details>
<script type="application/json" id="report-data">${scriptJson({ series: report.series })}</script>
</section>
<section aria-labelledby="links-heading">
<h2 id="links-heading">Links by clicks</h2>
${links}
</section>
<section aria-labelledby="failures-heading">
<h2 id="failures-heading">Bounces and failures by reason</h2>
<div class="scroll"><table>
<caption>Messages by what went wrong. A soft bounce is a temporary failure, quarantine or spam filtering; a hard bounce or a suppression stops further email to the address.</caption>
<thead><tr><th scope="col">Reason</th><th scope="col" class="num">Messages</th></tr></thead>
<tbody>
${reasonRow("Hard bounce", "bounced-hard")}
${reasonRow("Soft bounce", "bounced-soft")}
${reasonRow("Failed (delivery report Failed, hard or soft)", "delivery-failed")}
${reasonRow("Quarantined", "quarantined")}
${reasonRow("Filtered as spam", "filtered-spam")}
${reasonRow("Suppressed by Azure", "suppressed")}
${reasonRow("Refused by Azure when sent", "send-failed")}
${reasonRow("Skipped when sending", "skipped")}
${reasonRow("Cancelled before sending", "cancelled")}
${reasonRow("Delivery status not known", "unknown-status")}
${reasonRow("Still queued", "queued")}
${reasonRow("Being sent", "sending")}
</tbody>
</table></div>
${reasonsTable(report)}
</section>
<section aria-labelledby="unsubscribes-heading">
<h2 id="unsubscribes-heading">Unsubscribes and complaints</h2>
<div class="scroll"><table>
<caption>Shares are of delivered messages.</caption>
<thead><tr><th scope="col"></th><th scope="col" class="num">Messages</th><th scope="col" class="num">Share</th></tr></thead>
<tbody>
<tr><th scope="row">Unsubscribes</th>${cell("unsubscribes")}${cell("unsubscribes-share")}</tr>
<tr><th scope="row">Complaints (marked as spam)</th>${cell("complaints")}${cell("complaints-share")}</tr>
</tbody>
</table></div>
</section>`;
  return layout(session, {
    title: c.name,
    active: "/campaigns",
    body,
    scripts: ["/dashboard/assets/uPlot.min.css", "/dashboard/assets/uPlot.iife.min.js", "/dashboard/assets/campaign.js"],
  });
}

export function cancelPage(session: Session, campaign: { id: string; name: string; status: string }): string {
  const body = `<h1>Cancel ${e(campaign.name)}?</h1>
<p>Cancelling is final: the messages not sent yet are not sent. Those sent keep their events and numbers.
To send it again later, duplicate it (<code>mailroom campaigns duplicate ${campaign.id}</code>).</p>
<form method="post" action="/campaigns/${campaign.id}/cancel">
<input type="hidden" name="csrf" value="${e(session.csrf)}">
<button type="submit" class="danger" data-action="cancel">Yes, cancel the campaign</button>
<a class="button" href="/campaigns/${campaign.id}">No, keep it ${e(campaign.status)}</a>
</form>`;
  return layout(session, { title: `Cancel ${campaign.name}`, active: "/campaigns", body });
}

const TIMELINE_KINDS: Record<string, string> = {
  message: "Message",
  delivery_report: "Delivery report",
  open: "Open",
  click: "Click",
  unsubscribe: "Unsubscribed",
  complaint: "Complaint",
  bounce: "Bounce",
  list_joined: "Joined list",
  list_confirmed: "Confirmed",
  list_unsubscribed: "Left list",
};

export function subscribersPage(session: Session, query: string, found: { subscriber: Subscriber; timeline: TimelineEntry[] } | undefined): string {
  const search = `<form class="filter" method="get" action="/subscribers" role="search">
<label for="q">Email or subscriber id</label>
<input id="q" name="q" type="search" value="${e(query)}" spellcheck="false">
<button type="submit">Show timeline</button>
</form>`;
  let result = "";
  if (query !== "" && !found) result = `<p role="status">No subscriber with the email or id ${e(query)}.</p>`;
  if (found) {
    const { subscriber: s, timeline } = found;
    const what = (t: TimelineEntry) => {
      const parts = [t.status, t.detail].filter((x): x is string => !!x);
      if (t.url) parts.push(t.url);
      if (t.kind === "open" || t.kind === "click") parts.push(t.machine ? `machine: ${t.machineReason ?? "yes"}` : "a person");
      if (t.source) parts.push(`source ${t.source}`);
      return parts.map(e).join(" · ");
    };
    result = `<h2>${e(s.email)}</h2>
<p>Subscriber #${s.id}${s.name ? `, ${e(s.name)}` : ""}, ${e(s.status)}.</p>
${
  timeline.length === 0
    ? "<p>Nothing has happened to this subscriber yet.</p>"
    : `<div class="scroll"><table>
<caption>Everything that happened, in time order (UTC)${timeline.length === 500 ? ": the first 500 entries" : ""}.</caption>
<thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Campaign or list</th><th scope="col">Details</th></tr></thead>
<tbody>
${timeline
  .map(
    (t) => `<tr><th scope="row">${formatInstant(t.at)}</th><td>${e(TIMELINE_KINDS[t.kind] ?? t.kind)}</td><td>${
      t.campaignId ? `<a href="/campaigns/${t.campaignId}">${e(t.campaignName ?? `#${t.campaignId}`)}</a>` : e(t.listName ?? "")
    }</td><td class="url">${what(t)}</td></tr>`,
  )
  .join("\n")}
</tbody>
</table></div>`
}`;
  }
  return layout(session, { title: "Subscriber timeline", active: "/subscribers", body: `<h1>Subscriber timeline</h1>\n${search}\n${result}` });
}

export function sendersPage(session: Session, senders: SenderUse[]): string {
  const use = (sent: number, limit: number | null) => (limit === null ? `${formatCount(sent)} <span class="muted">(no quota)</span>` : `${formatCount(sent)} of ${formatCount(limit)}`);
  const rate = (f: SenderUse["failure"]["day"]) =>
    `<td class="num${f.aboveThreshold ? " alert" : ""}">${f.rate === null ? "–" : `${(100 * f.rate).toFixed(2)}%`}${f.aboveThreshold ? ' <strong class="flag">2% or more</strong>' : ""}<br><span class="muted">${formatCount(f.failed)} of ${formatCount(f.accepted)}</span></td>`;
  const body = `<h1>Senders</h1>
${
  senders.length === 0
    ? "<p>No sender yet (<code>mailroom senders create</code>).</p>"
    : `<h2>Quota use now</h2>
<div class="scroll"><table>
<caption>Messages handed to Azure in the sliding minute, hour and day, against each quota; what may be sent right now.</caption>
<thead><tr><th scope="col">Sender</th><th scope="col" class="num">Last minute</th><th scope="col" class="num">Last hour</th><th scope="col" class="num">Last day</th><th scope="col" class="num">May send now</th><th scope="col">State</th></tr></thead>
<tbody>
${senders
  .map(
    (s) => `<tr><th scope="row">${e(s.name)}<br><span class="muted">${e(s.fromAddress)}</span></th><td class="num">${use(s.sent.minute, s.limits.minute)}</td><td class="num">${use(s.sent.hour, s.limits.hour)}</td><td class="num">${use(s.sent.day, s.limits.day)}</td><td class="num">${s.capacityNow >= 2147483647 ? "no limit" : formatCount(s.capacityNow)}</td><td>${
      s.pausedUntil ? `paused by Azure (429) until ${formatTime(s.pausedUntil)}` : s.windowOpen ? "sending window open" : "outside its sending window"
    }</td></tr>`,
  )
  .join("\n")}
</tbody>
</table></div>
<h2>Failure rate</h2>
<p>Messages that bounced or were suppressed, over messages Azure accepted, in the campaigns sending in the window.
Azure asks for a failure rate under 2% before it raises a resource's sending limits: a rate of 2% or more is marked.</p>
<div class="scroll"><table>
<caption>Failure rate per sender, last 24 hours and last 7 days.</caption>
<thead><tr><th scope="col">Sender</th><th scope="col" class="num">Last 24 hours</th><th scope="col" class="num">Last 7 days</th></tr></thead>
<tbody>
${senders.map((s) => `<tr><th scope="row">${e(s.name)}</th>${rate(s.failure.day)}${rate(s.failure.week)}</tr>`).join("\n")}
</tbody>
</table></div>`
}`;
  return layout(session, { title: "Senders", active: "/senders", body });
}

export function healthPage(session: Session, health: Health, now: Date): string {
  const age = health.oldestUnattributedAt ? Math.max(0, (now.getTime() - health.oldestUnattributedAt.getTime()) / 1000) : null;
  const ageText = age === null ? "–" : age < 120 ? `${Math.round(age)} seconds` : age < 7200 ? `${Math.round(age / 60)} minutes` : `${(age / 3600).toFixed(1)} hours`;
  const body = `<h1>Attribution health</h1>
<h2>Unattributed events</h2>
<p>Delivery reports and engagement that match no message yet. They are attributed the moment their message
appears; events that stay for hours usually belong to another system sending through the same Azure resource.</p>
<dl class="figures">
<div><dt>Waiting</dt><dd data-figure="unattributed">${formatCount(health.unattributedTotal)}</dd></div>
<div><dt>Oldest received</dt><dd>${formatTime(health.oldestUnattributedAt)}</dd></div>
<div><dt>Age of the oldest</dt><dd>${ageText}</dd></div>
</dl>
${
  health.unattributed.length
    ? `<div class="scroll"><table>
<caption>Unattributed events by sender address and age.</caption>
<thead><tr><th scope="col">Sender</th><th scope="col">Age</th><th scope="col" class="num">Events</th><th scope="col">Oldest received</th></tr></thead>
<tbody>
${health.unattributed.map((u) => `<tr><th scope="row">${e(u.sender)}</th><td>${e(u.age.replace(/^\d: /, ""))}</td><td class="num">${formatCount(u.events)}</td><td>${formatTime(u.oldestReceivedAt)}</td></tr>`).join("\n")}
</tbody>
</table></div>`
    : "<p>None: every event received has found its message.</p>"
}
<h2>Attribution lag</h2>
<p>Seconds from receiving an event to attributing it, for the newest 10,000 events of the last day, by the key that matched it.</p>
<div class="scroll"><table>
<caption>Attribution lag percentiles of the newest events received in the last 24 hours.</caption>
<thead><tr><th scope="col">Key</th><th scope="col" class="num">Events</th><th scope="col" class="num">Median</th><th scope="col" class="num">95th percentile</th><th scope="col" class="num">99th percentile</th><th scope="col" class="num">Longest</th></tr></thead>
<tbody>
${health.lag
  .map(
    (l) => `<tr${l.isTotal ? ' class="total"' : ""}><th scope="row">${l.isTotal ? "All keys" : e(l.attributedBy ?? "")}</th><td class="num">${formatCount(l.events)}</td><td class="num">${formatSeconds(l.p50)}</td><td class="num">${formatSeconds(l.p95)}</td><td class="num">${formatSeconds(l.p99)}</td><td class="num">${formatSeconds(l.max)}</td></tr>`,
  )
  .join("\n")}
</tbody>
</table></div>`;
  return layout(session, { title: "Attribution health", active: "/health", body });
}
