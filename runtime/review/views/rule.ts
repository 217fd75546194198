/** One rule: its text, evidence, diff, estimate, impact, history and the decisions a reviewer can take. */
import { canonicalJson } from "../../store/canonical.ts";
import { describeEffect } from "../../rules/effects.ts";
import type { Estimate, GroupFigures } from "../impact.ts";
import type { RuleDetail, RuleVersion, VersionContent } from "../types.ts";
import { renderDiff } from "./diff.ts";
import { a, badge, csrfField, html, Html, num, page, pct, when, type PageUser } from "./layout.ts";

export interface RuleView {
  rule: RuleDetail;
  user: PageUser;
  estimate: Estimate;
  impact: { before: GroupFigures; after: GroupFigures } | null;
  rollout: { with_rule: GroupFigures; without_rule: GroupFigures } | null;
  next: string | null;
  notice?: string | undefined;
  error?: string | undefined;
  fileState?: string | undefined;
}

export function rulePage(v: RuleView): string {
  const r = v.rule;
  const c = r.reviewable;
  const reviewer = v.user.role === "reviewer";
  const id = new Html(a(r.rule_id));
  const compareTo = baseline(r);
  const body = html`
    <p class="crumbs"><a href="/review?state=${new Html(a(r.state))}">← ${r.state} rules</a>${v.next ? html` · <a id="next" rel="next" href="/review/rules/${new Html(a(v.next))}">next pending →</a>` : ""}</p>
    <h1>${r.rule_id} ${badge(r.state)} ${badge(r.priority)} ${r.has_draft ? badge("draft", `version ${r.latest_version} awaits approval`) : ""}</h1>
    ${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ""}
    ${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ""}
    ${v.fileState && v.fileState !== "applied" && r.state === "approved" ? html`<p class="error" role="alert">The rule file is ${v.fileState.replace("_", " ")} and is not applied. Roll back to a version to rewrite it.</p>` : ""}
    <dl class="meta">
      <dt>Target agent</dt><dd>${r.target_agent}</dd>
      <dt>Confidence</dt><dd>${r.confidence.toFixed(2)}</dd>
      <dt>Proposed</dt><dd>by ${r.proposed_by}, ${when(r.proposed_at)}, seen in ${r.observations} batch(es)</dd>
      <dt>In force</dt><dd>${r.active_version === null ? "no version" : html`version ${r.active_version}${r.rollout_percent < 100 ? html`, for ${r.rollout_percent}% of sessions` : ", for all sessions"}`}</dd>
      <dt>Content hash</dt><dd><code>${r.reviewable_hash.slice(0, 16)}…</code> (of the text shown)</dd>
    </dl>
    <section class="text"><h2>Rule text${r.latest_version ? ` (version ${r.latest_version})` : " (as proposed)"}</h2>
      <h3>Trigger</h3><pre class="text" id="trigger">${c.trigger_condition}</pre>
      <h3>Instruction</h3><pre class="text" id="instruction">${c.instruction}</pre>
      <h3>Rationale</h3><pre class="text" id="rationale">${c.rationale}</pre>
      <h3>Effect</h3><p>${describeEffect(c.effect)}</p>${c.effect ? html`<pre class="text">${canonicalJson(c.effect)}</pre>` : ""}
    </section>
    ${reviewer ? actions(v) : html`<p class="muted">You have the viewer role: decisions need a reviewer.</p>`}
    <section><h2>Evidence</h2>${evidence(r)}</section>
    <section><h2>Change ${compareTo ? html`against ${compareTo.label}` : ""}</h2>${compareTo ? diff(compareTo.content, c) : html`<p class="muted">A new rule: there is no earlier version to compare with.</p>`}</section>
    <section><h2>Estimated effect (replayed over stored workflows)</h2>${estimate(v.estimate)}</section>
    ${v.impact ? html`<section><h2>Impact since approval</h2>${compare("Before approval", v.impact.before, "After approval", v.impact.after)}</section>` : ""}
    ${v.rollout ? html`<section><h2>Rollout comparison</h2>${compare("Sessions with the rule", v.rollout.with_rule, "Sessions without it", v.rollout.without_rule)}
      <p class="muted">Sessions are chosen by a hash of rule id and session id. The guardrail retires the rule when the sessions with it fail or run longer beyond the margin.</p></section>` : ""}
    <section><h2>Versions</h2>${versions(r, reviewer, v.user.csrf)}</section>
    <section><h2>Decisions</h2>${decisions(r)}</section>`;
  void id;
  return page(r.rule_id, body, v.user);
}

function baseline(r: RuleDetail): { label: string; content: VersionContent } | null {
  const latest = r.versions.at(-1);
  if (!latest) return null;
  const active = r.versions.find((x) => x.version === r.active_version);
  if (active && latest.version !== active.version) return { label: `version ${active.version} (in force)`, content: active.content };
  const prev = r.versions.find((x) => x.version === (latest.based_on ?? latest.version - 1));
  return prev && prev.version !== latest.version ? { label: `version ${prev.version}`, content: prev.content } : null;
}

function diff(before: VersionContent, after: VersionContent): Html {
  return html`${renderDiff("Trigger", before.trigger_condition, after.trigger_condition)}${renderDiff("Instruction", before.instruction, after.instruction)}${renderDiff("Rationale", before.rationale, after.rationale)}${renderDiff("Effect", canonicalJson(before.effect ?? null), canonicalJson(after.effect ?? null))}`;
}

function actions(v: RuleView): Html {
  const r = v.rule;
  const id = new Html(a(r.rule_id));
  const csrf = csrfField(v.user.csrf);
  const hash = new Html(`<input type="hidden" name="content_hash" value="${a(r.reviewable_hash)}">`);
  const canApprove = r.state === "pending" || (r.state === "approved" && (r.has_draft || r.rollout_percent < 100));
  const parts: Html[] = [];
  if (canApprove)
    parts.push(html`<form method="post" action="/review/rules/${id}/approve" id="approve-form" class="card">${csrf}${hash}
      <h3>Approve ${r.latest_version && r.latest_version !== r.active_version ? `version ${r.latest_version}` : "this text"}</h3>
      <label>Apply to <input type="number" name="rollout_percent" min="1" max="100" value="100" class="short">% of sessions</label>
      <button class="primary" id="approve">Approve <kbd>a</kbd></button></form>`);
  if (r.state === "pending")
    parts.push(html`<form method="post" action="/review/rules/${id}/reject" id="reject-form" class="card">${csrf}
      <h3>Reject</h3><label>Reason (required) <input name="reason" id="reject-reason" required maxlength="2000"></label>
      <button class="danger" id="reject">Reject <kbd>r</kbd></button></form>`);
  if (r.state === "approved") {
    if (r.rollout_percent < 100)
      parts.push(html`<form method="post" action="/review/rules/${id}/promote" class="card">${csrf}<h3>Rollout at ${r.rollout_percent}%</h3><input type="hidden" name="rollout_percent" value="100"><button class="primary">Promote to all sessions</button></form>`);
    parts.push(html`<form method="post" action="/review/rules/${id}/retire" class="card">${csrf}<h3>Retire</h3><label>Reason (required) <input name="reason" required maxlength="2000"></label><button class="danger" id="retire">Retire</button></form>`);
  }
  if (r.state === "pending" || r.state === "approved") {
    const c = r.reviewable;
    parts.push(html`<details class="card edit"${new Html(v.error ? " open" : "")}><summary>Edit (creates version ${(r.latest_version ?? 0) + 1})</summary>
      <form method="post" action="/review/rules/${id}/edit">${csrf}<input type="hidden" name="based_on_hash" value="${new Html(a(r.reviewable_hash))}">
      <label>Trigger<textarea name="trigger_condition" rows="3">${c.trigger_condition}</textarea></label>
      <label>Instruction<textarea name="instruction" rows="3" id="edit-instruction">${c.instruction}</textarea></label>
      <label>Rationale<textarea name="rationale" rows="3">${c.rationale}</textarea></label>
      <label>Effect (JSON; empty for none)<textarea name="effect" rows="3" class="mono">${c.effect ? canonicalJson(c.effect) : ""}</textarea></label>
      <button name="then" value="save">Save as new version</button> <button name="then" value="approve" class="primary" id="edit-approve">Save and approve</button></form></details>`);
  }
  return parts.length ? html`<section class="actions">${parts}</section>` : html``;
}

function evidence(r: RuleDetail): Html {
  const e = r.evidence;
  const facts: [string, unknown][] = [
    ["Occurrences", e.occurrences],
    ["Capability", e.capability],
    ["Error code", e.error_code],
    ["Domain", e.domain],
    ["Attempts spent", e.attempts_spent],
    ["Attempts wasted", e.attempts_wasted],
    ["Time wasted", e.time_wasted_ms === undefined ? undefined : `${Math.round(e.time_wasted_ms / 1000)} s`],
    ["Workflows compared", e.workflows],
    ["Failure rate", e.failure_rate === undefined ? undefined : pct(e.failure_rate)],
    ["Batches", (e.batch_ids ?? []).join(", ")],
    ["Notes", e.notes],
  ];
  return html`<dl class="meta">${facts.filter(([, x]) => x !== undefined && x !== "").map(([k, x]) => html`<dt>${k}</dt><dd>${String(x)}</dd>`)}</dl>
    <h3>Example sessions</h3>${e.session_ids.length ? html`<ul class="sessions">${e.session_ids.map((s) => html`<li><a href="/review/trace/${new Html(a(encodeURIComponent(s)))}">${s}</a></li>`)}</ul>` : html`<p class="muted">none recorded</p>`}`;
}

function estimate(e: Estimate): Html {
  return html`<table class="figures"><tbody>
    <tr><th>Sessions touched</th><td>${e.sessions_touched}</td><th>Tasks touched</th><td>${e.tasks_touched}</td></tr>
    <tr><th>Retries (attempts) saved</th><td>${e.attempts_saved}</td><th>Minutes saved</th><td>${num(e.minutes_saved, 2)}</td></tr>
    <tr><th>Failures avoided (at most)</th><td>${e.failures_avoided_at_most}</td><th>Failures risked</th><td>${e.failures_risked}</td></tr>
    <tr><th>Attempts added</th><td>${e.attempts_added}</td><th>Matching records</th><td>${e.records_scanned}</td></tr>
  </tbody></table>
  <p class="muted">Assumes: ${e.assumptions.join(" ")}</p>
  ${e.example_sessions.length ? html`<p>Touched, e.g.: ${e.example_sessions.map((s) => html`<a href="/review/trace/${new Html(a(encodeURIComponent(s)))}">${s}</a> `)}</p>` : ""}`;
}

function compare(la: string, x: GroupFigures, lb: string, y: GroupFigures): Html {
  const row = (k: string, f: (g: GroupFigures) => string): Html => html`<tr><th>${k}</th><td>${f(x)}</td><td>${f(y)}</td></tr>`;
  return html`<table class="figures"><thead><tr><th></th><th>${la}</th><th>${lb}</th></tr></thead><tbody>
    ${row("Matching sessions", (g) => String(g.sessions))}
    ${row("Failed sessions", (g) => `${g.failed} (${pct(g.failure_rate)})`)}
    ${row("Attempts per session", (g) => `${num(g.attempts_per_session, 2)} (${g.attempts} in all)`)}
    ${row("Mean duration", (g) => (g.mean_duration_ms === null ? "–" : `${(g.mean_duration_ms / 1000).toFixed(1)} s`))}
  </tbody></table>${x.sessions + y.sessions === 0 ? html`<p class="muted">No matching workflow records yet.</p>` : ""}`;
}

function versions(r: RuleDetail, reviewer: boolean, csrf: string): Html {
  if (r.versions.length === 0) return html`<p class="muted">No version yet: approving or editing creates version 1.</p>`;
  // Rolling back to the text already in force would change nothing: no button for it.
  const activeHash = r.versions.find((v) => v.version === r.active_version)?.content_hash;
  return html`<table class="rules"><thead><tr><th>Version</th><th>Origin</th><th>By</th><th>Approved</th><th>Instruction</th><th></th></tr></thead><tbody>
    ${[...r.versions].reverse().map((v: RuleVersion) => html`<tr class="${v.version === r.active_version ? "active" : ""}"><td>v${v.version}${v.version === r.active_version ? html` ${badge("approved", "in force")}` : ""}</td>
      <td>${v.origin}${v.based_on ? ` of v${v.based_on}` : ""}</td><td data-label="by">${v.created_by}</td><td data-label="approved">${v.approved_by ? `${v.approved_by}, ${when(v.approved_at)}` : "not approved"}</td>
      <td class="trig">${v.content.instruction.slice(0, 120)}</td>
      <td>${reviewer && v.approved_by && (r.state === "approved" || r.state === "retired") && v.version !== r.active_version && v.content_hash !== activeHash
        ? html`<form method="post" action="/review/rules/${new Html(a(r.rule_id))}/rollback" class="inline">${csrfField(csrf)}<input type="hidden" name="to_version" value="${v.version}"><input name="reason" placeholder="reason" required maxlength="2000" class="short-text"><button id="rollback-v${v.version}">Roll back to v${v.version}</button></form>`
        : ""}</td></tr>`)}
  </tbody></table>`;
}

function decisions(r: RuleDetail): Html {
  if (r.decisions.length === 0) return html`<p class="muted">No decision yet.</p>`;
  return html`<table class="rules"><thead><tr><th>When</th><th>Decision</th><th>By</th><th>Version</th><th>Reason</th><th>File sha256</th></tr></thead><tbody>
    ${[...r.decisions].reverse().map((d) => html`<tr><td>${when(d.decided_at)}</td><td>${d.action}</td><td data-label="by">${d.actor}</td><td data-label="version">${d.version === null ? "–" : `v${d.version}`}</td><td data-label="reason">${d.reason ?? "–"}</td><td data-label="file"><code>${d.file_sha256 ? `${d.file_sha256.slice(0, 12)}…` : "–"}</code></td></tr>`)}
  </tbody></table>`;
}
