/* global document, location, confirm */
// Keyboard shortcuts for the review UI (served as a file: the CSP allows no inline script).
(() => {
  const rows = () => [...document.querySelectorAll("#list tbody tr")];
  const typing = (e) => /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) || e.target.isContentEditable;
  let cur = 0;
  const mark = () => rows().forEach((r, i) => r.classList.toggle("cur", i === cur));
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    const list = rows();
    if (list.length && (e.key === "j" || e.key === "k")) {
      cur = Math.max(0, Math.min(list.length - 1, cur + (e.key === "j" ? 1 : -1)));
      mark();
      list[cur].scrollIntoView({ block: "nearest" });
    } else if (list.length && e.key === "Enter") {
      location.href = list[cur].dataset.href;
    } else if (e.key === "n") {
      const next = document.getElementById("next") || document.querySelector("#list tbody tr a");
      if (next) location.href = next.href;
    } else if (e.key === "a") {
      const b = document.getElementById("approve");
      if (b) {
        b.focus();
        b.closest("form").requestSubmit();
      }
    } else if (e.key === "r") {
      const f = document.getElementById("reject-reason");
      if (f) {
        e.preventDefault();
        f.focus();
      }
    } else if (e.key === "?") {
      const foot = document.querySelector("footer");
      if (foot) foot.classList.toggle("show");
    } else return;
  });
  const all = document.getElementById("all");
  if (all) all.addEventListener("change", () => document.querySelectorAll('input[name="rule_id"]').forEach((c) => (c.checked = all.checked)));
  document.querySelectorAll("form").forEach((f) => {
    f.addEventListener("submit", (e) => {
      const b = f.querySelector("button.danger");
      if (b && f.action.endsWith("/retire") && !confirm("Retire this rule? Agents stop applying it within seconds.")) e.preventDefault();
    });
  });
})();
