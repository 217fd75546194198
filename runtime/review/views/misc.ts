/** Login, the trace of an example session, the rule files' status, and error pages. */
import type { RuleFileStatus } from "../../rules/loader.ts";
import type { TraceEntry } from "../../store/sessions.ts";
import { a, badge, html, Html, page, textOf, when, type PageUser } from "./layout.ts";

export function loginPage(loginToken: string, error: string | null, firstRun: boolean): string {
  const body = html`<div class="login card"><h1>Sign in to review rules</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
    ${firstRun ? html`<p class="notice">No administrator account exists yet. Create one on the server with
      <code>npx agentbus admin create &lt;name&gt; --role reviewer</code> (it asks for the password; there is no default).</p>` : ""}
    <form method="post" action="/review/login"><input type="hidden" name="_login" value="${new Html(a(loginToken))}">
      <label>Account <input name="name" id="name" autocomplete="username" required maxlength="64" autofocus></label>
      <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
      <button class="primary" id="login">Sign in</button></form></div>`;
  return page("Sign in", body, null);
}

export function tracePage(user: PageUser, sessionId: string, entries: TraceEntry[]): string {
  const body = html`<p class="crumbs"><a href="/review">← rules</a></p><h1>Trace of ${sessionId}</h1>
    ${entries.length === 0 ? html`<div class="empty"><p>No audit rows for this session (it may have been pruned by retention).</p></div>` : html`<table class="rules"><thead><tr><th>#</th><th>When</th><th>Outcome</th><th>Agent</th><th>Content type</th><th>Status</th><th>Next</th></tr></thead><tbody>
    ${entries.map((e) => {
      const env = (e.envelope ?? {}) as { output?: { content_type?: unknown }; status?: { code?: unknown }; next_agent?: { name?: unknown } };
      return html`<tr><td>${e.sequenceNumber ?? "–"}</td><td>${when(e.recordedAt)}</td><td>${badge(e.outcome === "completed" ? "approved" : e.outcome === "dead_lettered" || e.outcome === "rejected" ? "rejected" : "pending", e.outcome)}</td><td>${e.agent}</td><td>${textOf(env.output?.content_type)}</td><td>${textOf(env.status?.code)}</td><td>${textOf(env.next_agent?.name)}</td></tr>`;
    })}</tbody></table>`}`;
  return page(`Trace ${sessionId}`, body, user);
}

export function filesPage(user: PageUser, files: readonly RuleFileStatus[]): string {
  const body = html`<h1>Rule files</h1><p>What the agents read from the memory folder, as this server's loader last saw it. A file that is not applied is shown with the reason.</p>
    ${files.length === 0 ? html`<div class="empty"><p>No rule files yet: approving a rule writes the first one.</p></div>` : html`<table class="rules"><thead><tr><th>File</th><th>State</th><th>Version</th><th>Why</th><th>sha256</th></tr></thead><tbody>
    ${files.map((f) => html`<tr><td><code>${f.path}</code></td><td>${badge(f.state === "applied" ? "approved" : "rejected", f.state.replace("_", " "))}</td><td>${f.version ?? "–"}</td><td>${f.message}</td><td><code>${f.sha256.slice(0, 12)}…</code></td></tr>`)}</tbody></table>`}`;
  return page("Rule files", body, user, { nav: "files" });
}

export function errorPage(user: PageUser | null, status: number, message: string): string {
  return page(`Error ${status}`, html`<div class="empty"><h1>${status === 403 ? "Not allowed" : status === 404 ? "Not found" : "Something went wrong"}</h1><p>${message}</p><p><a href="/review">Back to the rules</a></p></div>`, user);
}
