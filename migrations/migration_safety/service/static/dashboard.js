// The dashboard: plain JavaScript over the service's own API, no build step, nothing fetched from
// elsewhere. The token lives in sessionStorage and travels only in the Authorization header, so no
// cookie exists for another site to ride on (no CSRF). Text from the server is only ever set as
// textContent, never parsed as HTML.
"use strict";

const KEY = "migration-safety-token";
const $ = (id) => document.getElementById(id);

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function call(method, path, body) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({ error: "unreadable answer" }));
  if (response.status === 401) { sessionStorage.removeItem(KEY); showLogin("That token was not accepted."); }
  return { status: response.status, data };
}

function table(node, columns, rows) {
  node.replaceChildren(el("tr", {}, ...columns.map((c) => el("th", {}, c))),
    ...rows.map((row) => el("tr", {}, ...row.map((cell) => cell instanceof Node ? el("td", {}, cell) : el("td", {}, cell ?? "")))));
  if (!rows.length) node.append(el("tr", {}, el("td", { colspan: columns.length }, "none")));
}

const age = (hours) => hours < 48 ? `${hours.toFixed(1)} h` : `${(hours / 24).toFixed(1)} d`;
const size = (bytes) => bytes > 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

function showLogin(text) {
  $("board").hidden = true;
  $("login").hidden = false;
  $("message").textContent = text || "";
}

async function load() {
  const who = await call("GET", "/api/v1/whoami");
  if (who.status !== 200) return;
  $("login").hidden = true;
  $("board").hidden = false;
  $("who").textContent = `${who.data.database} · token ${who.data.token} (${who.data.scope})`;
  $("actions").hidden = !(who.data.scope === "write" && who.data.write_enabled);
  const [status, history, validation, health, backups] = await Promise.all([
    call("GET", "/api/v1/migrations/status"), call("GET", "/api/v1/migrations/history"),
    call("GET", "/api/v1/migrations/validate"), call("GET", "/api/v1/migrations/health"),
    call("GET", "/api/v1/backups")]);
  $("message").textContent = [status, history].filter((r) => r.status !== 200).map((r) => r.data.error).join("; ");
  if (status.status === 200) showState(status.data);
  if (history.status === 200) {
    showPending(history.data, validation.status === 200 ? validation.data.findings : []);
    showRuns(history.data.runs);
  }
  if (health.data.checks) {
    table($("health-table"), ["check", "status", "detail"],
      health.data.checks.map((c) => [c.check, el("span", { class: c.status }, c.status), c.detail]));
  }
  if (backups.status === 200) {
    table($("backups-table"), ["file", "created", "revision", "size", "age", "verified"],
      backups.data.backups.map((b) => [b.file, b.created, (b.revision || []).join(", ") || "base", size(b.size_bytes),
        age(b.age_hours), el("span", { class: b.verified ? "ok" : "warn" }, b.verified ? "yes" : "no")]));
  }
}

function showState(s) {
  const rows = [["database", s.url], ["current", s.current.join(", ") || "base"], ["heads", s.heads.join(", ") || "none"],
    ["pending", String(s.pending.length)],
    ["last backup", s.last_backup ? `${s.last_backup.file} (${age(s.last_backup.age_hours)} ago)` : "none"],
    ["state", s.up_to_date ? "up to date" : (s.problem || `${s.pending.length} revision(s) pending`)]];
  for (const d of s.drift) rows.push(["DRIFT", `${d.revision}: ${d.detail}`]);
  $("state-list").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function showPending(history, findings) {
  const pending = history.revisions.filter((r) => !r.applied).reverse();   // oldest first, as they would run
  const list = $("pending-list");
  list.replaceChildren(...pending.map((r) => el("div", { class: "revision" },
    el("strong", {}, r.revision), ` ${r.message || ""} `, el("span", { class: "hint" }, r.file),
    ...findings.filter((f) => f.revision === r.revision).map((f) => el("div", { class: "finding" },
      el("span", { class: f.severity }, `${f.severity}[${f.rule}]`), ` line ${f.line}: ${f.message}`)))));
  if (!pending.length) list.replaceChildren(el("p", {}, "none: the database is at the head"));
}

function showRuns(runs) {
  table($("runs-table"), ["when", "what", "outcome", "who", "duration", "backup"],
    runs.slice(0, 20).map((r) => [r.started_at, `${r.direction}${r.revision ? " " + r.revision : ""}`,
      el("span", { class: r.outcome.startsWith("failed") ? "failed" : "applied" }, r.outcome),
      r.api_token_name ? `token ${r.api_token_name} from ${r.client_address}` : `${r.os_user}@${r.hostname}`,
      `${(r.duration_ms / 1000).toFixed(1)} s`, r.backup_file ? r.backup_file.split("/").pop() : ""]));
}

async function startRun(what, path, body, question) {
  if (!window.confirm(question)) return;
  for (const id of ["dry-run", "upgrade", "backup"]) $(id).disabled = true;
  $("run").hidden = false;
  $("run-title").textContent = `${what}: starting`;
  $("run-steps").replaceChildren();
  $("run-result").replaceChildren();
  const started = await call("POST", path, body);
  if (started.status !== 202) {
    $("run-title").textContent = `${what}: refused (${started.status}) ${started.data.error || ""}`;
  } else {
    await follow(what, started.data.url);
  }
  for (const id of ["dry-run", "upgrade", "backup"]) $(id).disabled = false;
  load();
}

async function follow(what, url) {
  for (;;) {
    const { status, data } = await call("GET", url);
    if (status !== 200) { $("run-title").textContent = `${what}: ${data.error}`; return; }
    $("run-title").textContent = `${what}: ${data.state}${data.outcome ? " — " + data.outcome : ""}`;
    $("run-steps").replaceChildren(...data.steps.map((s) => el("li", { class: s.level }, s.text)));
    const bar = $("run-progress");
    bar.hidden = !data.progress;
    if (data.progress) { bar.max = data.progress.total || 1; bar.value = Math.min(data.progress.done, bar.max); }
    if (data.state !== "running") { showResult(data); return; }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function showResult(run) {
  const out = $("run-result");
  if (run.error) { out.replaceChildren(el("p", { class: "error" }, run.error.message)); return; }
  const r = run.result;
  const parts = [el("p", {}, r.message || `backup ${r.backup}`)];
  if (r.steps && r.steps.length) {
    parts.push(el("h3", {}, r.status === "dry-run" ? "Plan" : "Steps"), el("ol", { id: "plan" }, ...r.steps.map((s) => el("li", {}, s))));
  }
  for (const f of r.findings || []) parts.push(el("div", { class: "finding" }, el("span", { class: f.severity }, `${f.severity}[${f.rule}]`), ` ${f.message}`));
  if (r.sql) parts.push(el("pre", {}, r.sql));
  out.replaceChildren(...parts);
}

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    load();
  });
  $("dry-run").addEventListener("click", () => startRun("Dry run", "/api/v1/migrations/migrate",
    { target_version: "head", dry_run: true }, "Show the plan, validation and SQL of an upgrade to head? Nothing changes."));
  $("upgrade").addEventListener("click", () => startRun("Upgrade", "/api/v1/migrations/migrate",
    { target_version: "head", dry_run: false }, "Upgrade the database to head now (behind a verified backup)?"));
  $("backup").addEventListener("click", () => startRun("Backup", "/api/v1/backups", undefined, "Take a backup now?"));
  if (sessionStorage.getItem(KEY)) load(); else showLogin();
});
