/** The rule list: filters, the review-ordered table, bulk decisions and the empty state. */
import { TARGET_AGENTS } from "../../rules/content.ts";
import type { RuleSummary } from "../types.ts";
import { a, badge, csrfField, html, Html, page, type PageUser } from "./layout.ts";

export interface ListView {
  rules: RuleSummary[];
  state: string;
  target: string;
  user: PageUser;
  notice?: string | undefined;
  totalRules: number;
}

const STATES = ["pending", "approved", "retired", "rejected", "all"];

export function listPage(v: ListView): string {
  const reviewer = v.user.role === "reviewer";
  const filters = html`<form class="filters" method="get" action="/review">
    <label>State <select name="state">${STATES.map((s) => html`<option value="${s}"${new Html(s === v.state ? " selected" : "")}>${s}</option>`)}</select></label>
    <label>Target agent <select name="target"><option value="">any</option>${TARGET_AGENTS.map((s) => html`<option value="${s}"${new Html(s === v.target ? " selected" : "")}>${s}</option>`)}</select></label>
    <button>Filter</button>
  </form>`;
  const rows = v.rules.map(
    (r, i) => html`<tr data-href="/review/rules/${new Html(a(r.rule_id))}" class="${i === 0 ? "cur" : ""}">
      ${reviewer ? html`<td><input type="checkbox" name="rule_id" value="${new Html(a(r.rule_id))}" form="bulk" aria-label="select ${r.rule_id}"></td>` : ""}
      <td><a href="/review/rules/${new Html(a(r.rule_id))}">${r.rule_id}</a>${r.has_draft ? html` ${badge("draft", "new version")}` : ""}</td>
      <td>${badge(r.state)}</td>
      <td>${r.target_agent}</td>
      <td>${badge(r.priority)}</td>
      <td class="n" data-label="confidence">${r.confidence.toFixed(2)}</td>
      <td class="n" data-label="seen">${r.evidence.occurrences}</td>
      <td class="trig">${clip(r.reviewable.trigger_condition, 140)}</td>
      <td class="n" data-label="in force">${r.active_version === null ? "none" : `v${r.active_version}`}${r.rollout_percent < 100 && r.state === "approved" ? html` ${badge("rollout", `${r.rollout_percent}%`)}` : ""}</td>
    </tr>`,
  );
  const empty =
    v.totalRules === 0
      ? html`<div class="empty"><h2>No rules yet</h2>
          <p>This is a fresh install: the learning agent has not proposed any rule. It mines the workflow records every night
          (or when enough new records wait) and puts each proposal here as <em>pending</em>. Nothing it proposes reaches an agent until a reviewer approves it.</p>
          <p>To see the loop work now: <code>npx agentbus demo --learn</code> runs the demo traffic and a learning batch at once
          (or <code>npx agentbus learn --now</code> over the records you have); reload this page to see its proposals.
          Approved rules are written to <code>context/memory/&lt;agent&gt;/&lt;rule_id&gt;.md</code>.</p></div>`
      : html`<div class="empty"><h2>Nothing matches</h2><p>No ${v.state === "all" ? "" : v.state} rules${v.target ? html` for ${v.target}` : ""}. ${v.state === "pending" ? "Every proposal has been decided. " : ""}<a href="/review?state=all">Show all rules</a>.</p></div>`;
  const bulk =
    reviewer && v.rules.some((r) => r.state === "pending")
      ? html`<form id="bulk" class="bulk" method="post" action="/review/bulk">${csrfField(v.user.csrf)}
          <input type="hidden" name="state" value="${new Html(a(v.state))}"><input type="hidden" name="target" value="${new Html(a(v.target))}">
          <span>With the selected rules (or, with none selected, all ${v.rules.filter((r) => r.state === "pending").length} pending rules listed):</span>
          <button name="action" value="approve">Approve…</button> <button name="action" value="reject">Reject…</button>
          <span class="hint">You will be asked to confirm, with the count.</span></form>`
      : "";
  const body = html`<h1>${title(v.state)}</h1>
    ${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ""}
    ${filters}
    ${v.rules.length === 0
      ? empty
      : html`${bulk}<table class="rules" id="list"><thead><tr>${reviewer ? html`<th><input type="checkbox" id="all" aria-label="select all"></th>` : ""}<th>Rule</th><th>State</th><th>Target</th><th>Priority</th><th>Confidence</th><th>Seen</th><th>Trigger</th><th>Version</th></tr></thead>
        <tbody>${rows}</tbody></table>`}`;
  return page(title(v.state), body, v.user, { nav: v.state });
}

function title(state: string): string {
  return state === "pending" ? "Pending rules" : state === "approved" ? "Approved rules" : state === "all" ? "All rules" : `${state[0]?.toUpperCase()}${state.slice(1)} rules`;
}

function clip(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n)}…` : text;
}

export function bulkConfirmPage(user: PageUser, action: string, ids: string[], back: string): string {
  const body = html`<h1>${action === "approve" ? "Approve" : "Reject"} ${ids.length} rule${ids.length === 1 ? "" : "s"}?</h1>
    <p>This ${action === "approve" ? "writes each rule's file to context/memory/ and applies it to its target agent" : "rejects each rule for good"}. Each is recorded as its own decision with your name.</p>
    <ul class="ids">${ids.map((id) => html`<li><a href="/review/rules/${new Html(a(id))}">${id}</a></li>`)}</ul>
    <form method="post" action="/review/bulk/confirm">${csrfField(user.csrf)}<input type="hidden" name="action" value="${new Html(a(action))}">
      ${ids.map((id) => html`<input type="hidden" name="rule_id" value="${new Html(a(id))}">`)}
      ${action === "reject" ? html`<label>Reason (required) <input name="reason" required maxlength="2000" size="60"></label>` : ""}
      <button class="${action === "approve" ? "primary" : "danger"}" id="confirm">Yes, ${action} ${ids.length} rule${ids.length === 1 ? "" : "s"}</button>
      <a href="${new Html(a(back))}">Cancel</a></form>`;
  return page("Confirm", body, user);
}
