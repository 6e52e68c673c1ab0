/* The workshop console (docs/console.md): plain JavaScript, no library, no build step.
 *
 * Everything it shows comes from podiam's admin API on the page's own origin:
 *   GET  /_podiam/decisions?after=ID&wait=S   the decision log, long-polled (live rows)
 *   GET  /_podiam/decisions/ID                one decision (links from a client's error)
 *   GET  /_podiam/console/api/state           the state without secrets
 *   POST /_podiam/console/api/simulate        the policy simulator with its traces
 *   GET  /_podiam/console/api/player          the scenario player's state, long-polled
 *   POST /_podiam/console/api/player/command  a command for the player (run a step, all, reset)
 *   GET/POST /_podiam/clock, POST /_podiam/reset, GET /_podiam/oidc/...
 * Calls that change state send a JSON body (the admin API's rule for them). The page builds
 * every node with textContent (never innerHTML), so nothing from the state or the log can
 * inject markup. */
"use strict";

/* ---- small helpers ------------------------------------------------------------------- */

function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") n.className = v;
    else if (k === "text") n.textContent = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    n.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return n;
}

const SVGNS = "http://www.w3.org/2000/svg";
function sv(tag, attrs, ...kids) {
  const n = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") n.textContent = v;
    else n.setAttribute(k, String(v));
  }
  for (const kid of kids.flat()) if (kid) n.append(kid);
  return n;
}

const $ = (sel) => document.querySelector(sel);

async function api(path, opts) {
  const o = Object.assign({ headers: {} }, opts || {});
  if (o.json !== undefined) {
    o.method = o.method || "POST";
    o.body = JSON.stringify(o.json);
    o.headers["Content-Type"] = "application/json";
    delete o.json;
  }
  const res = await fetch(path, o);
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch (e) {
    body = { error: "BadResponse", message: text.slice(0, 300) };
  }
  if (!res.ok) {
    const err = new Error((body.error ? body.error + ": " : "") + (body.message || res.status));
    err.status = res.status;
    err.body = body;
    throw err;
  }
  return body;
}

let toastTimer = 0;
function toast(msg) {
  const t = $("#toast");
  t.textContent = msg;
  t.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove("show"), 4000);
}

function idNum(id) {
  const m = /^d-(\d+)$/.exec(id || "");
  return m ? Number(m[1]) : 0;
}

function badge(decision) {
  const ok = decision === "allowed";
  const label = { allowed: "allowed", explicitDeny: "explicit deny", implicitDeny: "implicit deny",
                  invalidToken: "invalid token" }[decision] || decision || "?";
  return el("span", { class: "badge " + (ok ? "ok" : "bad") }, label);
}

/* Pretty JSON with ARNs as links to the state view (where the state knows them). */
function prettyJson(v) {
  const pre = el("pre", { class: "json", tabindex: "0" });
  const walk = (x, ind) => {
    const pad = "  ".repeat(ind);
    if (Array.isArray(x)) {
      if (!x.length) { pre.append("[]"); return; }
      pre.append("[\n");
      x.forEach((y, i) => {
        pre.append(pad + "  ");
        walk(y, ind + 1);
        pre.append(i + 1 < x.length ? ",\n" : "\n");
      });
      pre.append(pad + "]");
    } else if (x && typeof x === "object") {
      const keys = Object.keys(x);
      if (!keys.length) { pre.append("{}"); return; }
      pre.append("{\n");
      keys.forEach((k, i) => {
        pre.append(pad + "  ", el("span", { class: "k" }, JSON.stringify(k)), ": ");
        walk(x[k], ind + 1);
        pre.append(i + 1 < keys.length ? ",\n" : "\n");
      });
      pre.append(pad + "}");
    } else if (typeof x === "string") {
      const target = arnTarget(x);
      const s = el("span", { class: "s" }, JSON.stringify(x));
      pre.append(target ? el("a", { href: "#" + target }, s) : s);
    } else {
      pre.append(JSON.stringify(x));
    }
  };
  walk(v, 0);
  return pre;
}

function kv(pairs) {
  const dl = el("dl", { class: "kv" });
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === "") continue;
    dl.append(el("dt", {}, k), el("dd", {}, v instanceof Node ? v : String(v)));
  }
  return dl;
}

/* ---- the state's ARN index (links between ARNs) ------------------------------------- */

const arnIndex = new Map(); /* ARN -> "state/..." anchor */
let stateDoc = null;

function anchorOf(kind, ...parts) {
  return "state-" + kind + "-" + parts.join("-").replace(/[^A-Za-z0-9_.-]/g, "_");
}

function arnTarget(s) {
  if (typeof s !== "string" || !s.startsWith("arn:")) return null;
  if (arnIndex.has(s)) return "state/" + arnIndex.get(s);
  const m = /^arn:aws:s3:::([^/]+)/.exec(s);
  if (m && arnIndex.has("arn:aws:s3:::" + m[1])) return "state/" + arnIndex.get("arn:aws:s3:::" + m[1]);
  const r = /^arn:aws:sts::(\d+):assumed-role\/([^/]+)\//.exec(s);
  if (r && arnIndex.has("arn:aws:iam::" + r[1] + ":role/" + r[2]))
    return "state/" + arnIndex.get("arn:aws:iam::" + r[1] + ":role/" + r[2]);
  return null;
}

function arnLink(s) {
  const t = arnTarget(s);
  return t ? el("a", { href: "#" + t, class: "mono" }, s) : el("span", { class: "mono" }, s || "");
}

function indexState(doc) {
  arnIndex.clear();
  for (const a of (doc.iam && doc.iam.accounts) || []) {
    for (const u of a.users || []) arnIndex.set(`arn:aws:iam::${a.id}:user${u.path || "/"}${u.name}`, anchorOf("user", a.id, u.name));
    for (const r of a.roles || []) arnIndex.set(`arn:aws:iam::${a.id}:role${r.path || "/"}${r.name}`, anchorOf("role", a.id, r.name));
    for (const r of a.roles || []) arnIndex.set(`arn:aws:iam::${a.id}:role/${r.name}`, anchorOf("role", a.id, r.name));
    for (const p of a.policies || []) arnIndex.set(`arn:aws:iam::${a.id}:policy${p.path || "/"}${p.name}`, anchorOf("policy", a.id, p.name));
    for (const o of a.oidc_providers || []) {
      const host = o.url.replace(/^https:\/\//, "");
      arnIndex.set(`arn:aws:iam::${a.id}:oidc-provider/${host}`, anchorOf("oidc", a.id, host));
    }
  }
  for (const c of (doc.eks && doc.eks.clusters) || [])
    arnIndex.set(`arn:aws:eks:${c.region}:${c.account}:cluster/${c.name}`, anchorOf("cluster", c.account, c.region, c.name));
  for (const b of (doc.s3 && doc.s3.buckets) || []) arnIndex.set("arn:aws:s3:::" + b.name, anchorOf("bucket", b.name));
}

async function loadState() {
  stateDoc = await api("/_podiam/console/api/state");
  indexState(stateDoc);
  return stateDoc;
}

/* ---- decisions ---------------------------------------------------------------------- */

const D = {
  byId: new Map(), /* id -> entry */
  last: 0,          /* newest id seen */
  paused: false,
  open: new Set(),  /* expanded rows */
  services: new Set(),
  maxRows: 400,
};

function actionsOf(e) {
  return (e.checks || []).map((c) => c.action).filter(Boolean);
}

function outcomeOf(e) {
  return e.decision || (e.allowed ? "allowed" : "?");
}

function addDecisions(list) {
  let added = 0;
  for (const e of list) {
    if (!e || !e.id || D.byId.has(e.id)) continue;
    D.byId.set(e.id, e);
    D.last = Math.max(D.last, idNum(e.id));
    if (e.service && !D.services.has(e.service)) {
      D.services.add(e.service);
      $("#f-service").append(el("option", { value: e.service }, e.service));
    }
    added++;
  }
  /* the ring in podiam keeps 1000; the page keeps as many, oldest out first */
  if (D.byId.size > 1500) {
    const ids = [...D.byId.keys()].sort((a, b) => idNum(a) - idNum(b));
    for (const id of ids.slice(0, D.byId.size - 1500)) D.byId.delete(id);
  }
  return added;
}

function filters() {
  return {
    principal: $("#f-principal").value.trim().toLowerCase(),
    service: $("#f-service").value,
    action: $("#f-action").value.trim().toLowerCase(),
    outcome: $("#f-outcome").value,
  };
}

function passes(e, f) {
  if (f.principal && !(e.principal || "").toLowerCase().includes(f.principal)) return false;
  if (f.service && e.service !== f.service) return false;
  if (f.action && !actionsOf(e).some((a) => a.toLowerCase().includes(f.action)) &&
      !(e.operation || "").toLowerCase().includes(f.action)) return false;
  const o = outcomeOf(e);
  if (f.outcome === "denied" && o === "allowed") return false;
  if (f.outcome && f.outcome !== "denied" && o !== f.outcome) return false;
  return true;
}

function renderDecisions() {
  if (D.paused) return;
  const f = filters();
  const all = [...D.byId.values()].sort((a, b) => idNum(b.id) - idNum(a.id));
  const shown = all.filter((e) => passes(e, f));
  const body = $("#d-rows");
  const rows = [];
  for (const e of shown.slice(0, D.maxRows)) {
    const open = D.open.has(e.id);
    const acts = actionsOf(e);
    const tr = el("tr", { id: "row-" + e.id, class: open ? "sel" : "", "data-id": e.id,
                          "data-outcome": outcomeOf(e) },
      el("td", {}, el("button", { type: "button", class: "rowid", "aria-expanded": open ? "true" : "false",
                                  "aria-controls": "detail-" + e.id,
                                  "aria-label": "Decision " + e.id + ": show its trace",
                                  onclick: () => toggleRow(e.id) }, e.id)),
      el("td", { class: "mono" }, (e.time || "").replace("T", " ").replace(/\.\d+Z$/, "Z")),
      el("td", {}, e.service || ""),
      el("td", {}, e.operation || ""),
      el("td", { class: "principal" }, arnLink(e.principal)),
      el("td", { class: "mono" }, acts.length > 2 ? acts.slice(0, 2).join(", ") + " +" + (acts.length - 2) : acts.join(", ")),
      el("td", {}, badge(outcomeOf(e))));
    rows.push(tr);
    if (open) rows.push(el("tr", { class: "detail", id: "detail-" + e.id }, el("td", { colspan: "7" }, decisionDetail(e))));
  }
  body.replaceChildren(...rows);
  $("#d-count").textContent = `${shown.length} of ${all.length} decisions` +
    (shown.length > D.maxRows ? ` (the newest ${D.maxRows} shown)` : "") + " · live";
}

function toggleRow(id) {
  if (D.open.has(id)) D.open.delete(id);
  else D.open.add(id);
  renderDecisions();
  const b = document.querySelector(`#row-${CSS.escape(id)} button.rowid`);
  if (b) b.focus();
}

/* One check's trace: the policies considered, each statement and why it matched or not. */
function traceView(t) {
  const box = el("div", { class: "trace" });
  if (!t) return box;
  if (t.truncated) { box.append(el("p", { class: "empty" }, t.truncated)); return box; }
  if (t.missingContextValues && t.missingContextValues.length)
    box.append(el("p", {}, "Missing context values: ", el("code", {}, t.missingContextValues.join(", "))));
  for (const ev of t.evaluations || []) {
    box.append(el("div", {}, el("strong", {}, "Resource "), arnLink(ev.resource), " → ", badge(ev.decision),
      ev.decidedBy ? el("span", { class: "muted" }, " decided by " + ev.decidedBy) : null));
    if (!(ev.policies || []).length) box.append(el("p", { class: "empty" }, "no policy applies to this request"));
    for (const p of ev.policies || []) {
      const pol = el("div", { class: "policy" },
        el("div", { class: "name" }, (p.type || "policy") + ": ", arnLink(p.id),
          p.level ? " (at " + p.level + ")" : ""));
      for (const s of p.statements || []) {
        const name = "Statement " + s.index + (s.sid ? " (" + s.sid + ")" : "") + " " + s.effect;
        let cls = "stmt " + (s.matched ? (s.effect === "Deny" ? "deny" : "matched") : "unmatched");
        const what = s.matched ? (s.effect === "Deny" ? "matched: denies" : "matched: allows")
                               : "does not match: " + (s.reason || "?");
        const st = el("div", { class: cls }, name + " — " + what);
        pol.append(st);
        if (s.condition) {
          const c = s.condition;
          pol.append(el("div", { class: "cond" },
            `${c.operator} ${c.key}: policy wants ${JSON.stringify(c.values)}, request has ` +
            (c.context === null ? "no such key" : JSON.stringify(c.context))));
        }
      }
      if (p.otherActions) pol.append(el("div", { class: "stmt unmatched" }, `${p.otherActions} statement(s) about other actions`));
      box.append(pol);
    }
    /* AWS Organizations: what the SCPs and RCPs decided, level by level */
    for (const [kind, o] of Object.entries(ev.organizations || {})) {
      const name = kind === "serviceControl" ? "Service control policies" : kind === "resourceControl" ? "Resource control policies" : kind;
      const org = el("div", { class: "policy" }, el("div", { class: "name" }, name + " → ", badge(o.decision),
        o.level ? ` at ${o.level}` : "", o.policy ? ` by ${o.policy}` : ""));
      for (const l of o.levels || [])
        org.append(el("div", { class: "stmt " + (l.allowedBy ? "matched" : "unmatched") },
          `${l.level}: ` + (l.allowedBy ? "allowed by " + l.allowedBy : "no Allow applies")));
      box.append(org);
    }
  }
  return box;
}

function k8sChecks(c) {
  const box = el("div", { class: "trace" });
  for (const a of c.authorizers || []) {
    box.append(el("div", { class: "stmt " + (a.decision === "allow" ? "matched" : a.decision === "deny" ? "deny" : "unmatched") },
      `${a.authorizer}: ${a.decision}` + (a.reason ? " — " + a.reason : "")));
    if (a.trace) box.append(prettyJson(a.trace));
  }
  if (c.reason && !(c.authorizers || []).length) box.append(el("div", {}, c.reason));
  return box;
}

function webIdentitySteps(w) {
  const ol = el("ol", { class: "steps" });
  for (const s of w.steps || []) {
    ol.append(el("li", { class: s.ok ? "ok" : "bad" }, el("strong", {}, s.step), " ",
      s.ok ? el("span", { class: "detail" }, s.detail || "") : el("span", { class: "why" }, s.detail || "refused")));
  }
  return ol;
}

function decisionDetail(e) {
  const box = el("div", { class: "decision-detail" });
  if (e.message) box.append(el("p", { class: "message" }, e.message));
  else box.append(el("p", { class: "message ok" }, e.allowed ? "Allowed." : "Refused."));
  box.append(kv([["Request id", e.request_id], ["Mode", e.mode], ["Decided by", e.decided_by],
                 ["Cluster", e.cluster], ["Error", e.error]]));
  if (e.web_identity || e.operation === "AssumeRoleWithWebIdentity" || e.service === "k8s")
    box.append(el("p", {}, el("a", { href: "#handshake/" + e.id }, "Draw this exchange as a sequence diagram")));
  if (e.web_identity) {
    box.append(el("h4", {}, "Web identity token checks"));
    box.append(webIdentitySteps(e.web_identity));
  } else if (e.token) {
    box.append(el("h4", {}, "Web identity token refused"));
    box.append(kv([["Check", e.token.step], ["Why", e.token.reason], ["Issuer", e.token.issuer],
                   ["Key id", e.token.kid], ["Keys", e.token.keys]]));
  }
  if (e.user) {
    box.append(el("h4", {}, "Kubernetes identity"));
    box.append(kv([["User", e.user.username], ["Groups", (e.user.groups || []).join(", ")],
                   ["IAM identity", e.user.arn], ["Mapped by", e.user.mapped_by]]));
  }
  for (const c of e.checks || []) {
    box.append(el("h4", {}, c.action || "check", " on ", arnLink(c.resource || ""), " → ", badge(c.decision),
      c.decided_by ? " (" + c.decided_by + ")" : ""));
    if (c.trace) box.append(traceView(c.trace));
    if (c.authorizers || c.reason) box.append(k8sChecks(c));
  }
  if (e.context && Object.keys(e.context).length) {
    const d = el("details", {}, el("summary", {}, "Request context"));
    d.append(kv(Object.entries(e.context).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v])));
    box.append(d);
  }
  const raw = el("details", {}, el("summary", {}, "The log entry (JSON)"));
  raw.append(prettyJson(e));
  box.append(raw);
  return box;
}

async function goToDecision(id) {
  id = (id || "").trim();
  if (/^\d+$/.test(id)) id = "d-" + id;
  if (!D.byId.has(id)) {
    try {
      addDecisions([await api("/_podiam/decisions/" + encodeURIComponent(id))]);
    } catch (e) {
      toast("No decision " + id + " (podiam keeps the last 1000)");
      return;
    }
  }
  D.open.add(id);
  if (!passes(D.byId.get(id), filters())) { /* the filters would hide it: clear them */
    for (const f of ["#f-principal", "#f-action"]) $(f).value = "";
    for (const f of ["#f-service", "#f-outcome"]) $(f).value = "";
  }
  renderDecisions();
  const row = document.getElementById("row-" + id);
  if (row) {
    row.scrollIntoView({ block: "center" });
    row.querySelector("button").focus();
  }
}

/* The live stream: a long poll on the decision log (answered as soon as a newer decision is
 * logged, else after 15 s), so rows appear as the clients make their calls. */
let pollRunning = false;
async function pollDecisions() {
  if (pollRunning) return;
  pollRunning = true;
  try {
    const first = await api("/_podiam/decisions?limit=1000");
    addDecisions(first.decisions || []);
    D.last = Math.max(D.last, first.last || 0);
    renderDecisions();
    refreshHandshakes();
  } catch (e) {
    toast("Cannot read the decision log: " + e.message);
  }
  for (;;) {
    try {
      const t0 = Date.now();
      const r = await api(`/_podiam/decisions?after=${D.last}&wait=15&limit=1000`);
      /* an empty answer at once: podiam has enough long polls already, so poll gently */
      if (!(r.decisions || []).length && Date.now() - t0 < 1000)
        await new Promise((ok) => setTimeout(ok, 3000));
      if (r.last !== undefined && r.last < D.last) { /* podiam restarted: start over */
        D.byId.clear();
        D.last = 0;
      }
      if (addDecisions(r.decisions || [])) {
        renderDecisions();
        refreshHandshakes();
      }
    } catch (e) {
      await new Promise((ok) => setTimeout(ok, 2000));
    }
  }
}

/* ---- handshakes ----------------------------------------------------------------------- */

const STEP_TEXT = {
  token: ["Pod", "STS", "AssumeRoleWithWebIdentity with the projected token"],
  provider: ["STS", "IAM", "the IAM OIDC provider for the token's issuer"],
  discovery: ["STS", "OIDC issuer", "discovery document"],
  jwks: ["STS", "OIDC issuer", "JWKS: the signing key"],
  signature: ["STS", "STS", "signature verified with that key"],
  audience: ["STS", "IAM", "audience among the provider's client IDs"],
  times: ["STS", "STS", "token times (exp, nbf, iat)"],
  subject: ["STS", "STS", "subject claim"],
};

/* EKS Pod Identity: the agent's endpoint and eks-auth's AssumeRoleForPodIdentity log one
 * exchange as several decisions of one request (the node's permission for eks-auth, the
 * role's trust for sts:AssumeRole and sts:TagSession, a target role's), or one refused
 * token; the first of them stands for the exchange. */
function isPodIdentity(e) {
  return e.service === "pod-identity-agent" || (e.service === "eks-auth" && e.operation === "AssumeRoleForPodIdentity");
}

function sameRequest(e) {
  return [...D.byId.values()].filter((x) => x.request_id === e.request_id && isPodIdentity(x))
    .sort((a, b) => idNum(a.id) - idNum(b.id));
}

function exchanges() {
  const firstOf = new Map(); /* request id -> the first pod identity decision's number */
  for (const e of D.byId.values())
    if (isPodIdentity(e) && !(firstOf.get(e.request_id) <= idNum(e.id))) firstOf.set(e.request_id, idNum(e.id));
  return [...D.byId.values()]
    .filter((e) => (e.service === "sts" && e.operation === "AssumeRoleWithWebIdentity") || e.service === "k8s" ||
                   (isPodIdentity(e) && firstOf.get(e.request_id) === idNum(e.id)))
    .sort((a, b) => idNum(b.id) - idNum(a.id));
}

function exchangeLabel(e) {
  if (isPodIdentity(e)) {
    const g = sameRequest(e);
    const ok = g.every((x) => outcomeOf(x) === "allowed") ? "✓" : "✗";
    const pid = (g.find((x) => x.pod_identity) || {}).pod_identity;
    const role = pid ? pid.association.role_arn.replace(/^.*:role\//, "role/") : "";
    const who = pid ? `${pid.subject.namespace}/${pid.subject.service_account}` : "";
    return `${ok} ${e.id} pod identity → ${role} ${who}`;
  }
  const ok = outcomeOf(e) === "allowed" ? "✓" : "✗";
  if (e.service === "k8s") {
    const c = (e.checks || [])[0] || {};
    return `${ok} ${e.id} kubectl ${c.action ? c.action.replace(/^k8s:/, "") : e.operation} ${c.resource || ""}`;
  }
  const role = ((e.checks || [])[0] || {}).resource || "";
  const session = (e.context || {})["sts:rolesessionname"] || "";
  return `${ok} ${e.id} web identity → ${role.replace(/^.*:role\//, "role/")} ${session}`;
}

let hsSelected = null;
function refreshHandshakes() {
  const list = $("#hs-list");
  const xs = exchanges();
  const keep = hsSelected || list.value;
  list.replaceChildren(...xs.slice(0, 300).map((e) => el("option", { value: e.id }, exchangeLabel(e))));
  if (keep && xs.some((e) => e.id === keep)) list.value = keep;
  else if (xs.length) list.value = (xs.find((e) => e.service === "sts") || xs[0]).id;
  if (!$("#view-handshake").hidden) drawSelected();
}

function drawSelected() {
  const id = $("#hs-list").value;
  const e = D.byId.get(id);
  const box = $("#hs-diagram");
  if (!e) {
    box.replaceChildren(el("p", { class: "empty" },
      "No exchange yet: run the seed scenario, podiamctl handshake, or kubectl against podiam."));
    return;
  }
  const steps = e.service === "k8s" ? kubectlSteps(e) : isPodIdentity(e) ? podIdentityFlow(e) : webIdentityFlow(e);
  box.replaceChildren(
    el("h3", {}, exchangeLabel(e).slice(2)),
    sequenceDiagram(steps.actors, steps.steps),
    stepList(steps.steps),
    el("p", {}, el("a", { href: "#decision/" + e.id }, "This decision in the log")));
}

/* The S3 calls made with the credentials of one AssumeRoleWithWebIdentity: the decisions
 * whose principal is that role's session, after it (until the next exchange of the same
 * session name). */
function s3CallsOf(e) {
  return s3CallsOfSession(e, ((e.checks || [])[0] || {}).resource || "", (e.context || {})["sts:rolesessionname"]);
}

function s3CallsOfSession(e, role, session) {
  if (!role) return [];
  const m = /^arn:aws:iam::(\d+):role\/(?:.*\/)?([^/]+)$/.exec(role);
  if (!m || !session) return [];
  const principal = `arn:aws:sts::${m[1]}:assumed-role/${m[2]}/${session}`;
  const after = idNum(e.id);
  const next = [...D.byId.values()]
    .filter((x) => x.operation === "AssumeRoleWithWebIdentity" && idNum(x.id) > after &&
                   (x.context || {})["sts:rolesessionname"] === session)
    .map((x) => idNum(x.id));
  const until = next.length ? Math.min(...next) : Infinity;
  return [...D.byId.values()]
    .filter((x) => x.service === "s3" && x.principal === principal && idNum(x.id) > after && idNum(x.id) < until)
    .sort((a, b) => idNum(a.id) - idNum(b.id));
}

function trustReason(e) {
  const c = (e.checks || [])[0];
  if (!c || !c.trace) return e.message || "";
  for (const ev of c.trace.evaluations || [])
    for (const p of ev.policies || [])
      for (const s of p.statements || []) {
        if (s.condition) {
          const k = s.condition;
          return `statement ${s.index}: ${k.operator} ${k.key} wants ${JSON.stringify(k.values)}, the token gives ` +
                 (k.context === null ? "nothing" : JSON.stringify(k.context));
        }
        if (!s.matched && s.reason) return `statement ${s.index} does not match: ${s.reason}`;
        if (s.matched && s.effect === "Deny") return `statement ${s.index} denies`;
      }
  return e.message || "no statement of the trust policy allows this token";
}

/* A refused token's entry names the check that refused it ("token": {"step", "reason",
 * ...}): the checks before it passed, the later ones were not reached. */
const REFUSED_AT = { role: "token", structure: "token", issuer: "token", provider: "provider",
                     keys: "jwks", signature: "signature", audience: "audience", times: "times",
                     subject: "subject", "session tags": "subject" };

function refusedSteps(e) {
  const t = e.token || {};
  const at = REFUSED_AT[t.step] || "token";
  const steps = [];
  for (const name of Object.keys(STEP_TEXT)) {
    if (name === at) {
      steps.push({ step: name, ok: false, detail: [e.message, t.reason].filter(Boolean).join(" — ") });
      break;
    }
    steps.push({ step: name, ok: true, detail: name === "token" ? t.issuer : name === "jwks" && t.kid ? "key " + t.kid : "" });
  }
  return { steps };
}

function webIdentityFlow(e) {
  const actors = ["Pod", "STS", "OIDC issuer", "IAM", "S3"];
  const steps = [];
  const w = e.web_identity || (e.decision === "invalidToken" ? refusedSteps(e) : { steps: [] });
  const seen = new Set();
  let failed = false;
  for (const s of w.steps || []) {
    const t = STEP_TEXT[s.step] || ["STS", "STS", s.step];
    seen.add(s.step);
    steps.push({ from: t[0], to: t[1], label: t[2], state: s.ok ? "ok" : "bad",
                 detail: s.ok ? s.detail : "", reason: s.ok ? "" : s.detail });
    if (!s.ok) failed = true;
  }
  for (const name of Object.keys(STEP_TEXT))
    if (!seen.has(name)) {
      const t = STEP_TEXT[name];
      steps.push({ from: t[0], to: t[1], label: t[2], state: "idle", detail: "not reached" });
    }
  const trust = (e.checks || [])[0];
  if (!failed && trust) {
    const ok = trust.decision === "allowed";
    steps.push({ from: "STS", to: "IAM", label: "the role's trust policy", state: ok ? "ok" : "bad",
                 detail: ok ? "allows " + (trust.resource || "") : "", reason: ok ? "" : trustReason(e) });
    failed = !ok;
  } else {
    steps.push({ from: "STS", to: "IAM", label: "the role's trust policy", state: "idle", detail: "not reached" });
  }
  steps.push({ from: "STS", to: "Pod", label: "temporary credentials (ASIA…)", state: failed ? "idle" : "ok",
               detail: failed ? "not issued" : "issued for session " + ((e.context || {})["sts:rolesessionname"] || "") });
  s3Steps(steps, failed ? [] : s3CallsOf(e), failed);
  return { actors, steps };
}

/* One arrow per S3 call made with an exchange's credentials (the first six). */
function s3Steps(steps, calls, failed) {
  if (!calls.length)
    steps.push({ from: "Pod", to: "S3", label: "S3 with those credentials", state: "idle",
                 detail: failed ? "not reached" : "no S3 call with them yet" });
  for (const c of calls.slice(0, 6)) {
    const ck = (c.checks || [])[0] || {};
    const ok = outcomeOf(c) === "allowed";
    steps.push({ from: "Pod", to: "S3", label: `${c.operation} ${(ck.resource || "").replace("arn:aws:s3:::", "")}`,
                 state: ok ? "ok" : "bad", detail: ok ? "allowed (" + c.id + ")" : "", reason: ok ? "" : c.message,
                 link: c.id });
  }
  if (calls.length > 6)
    steps.push({ from: "Pod", to: "S3", label: `${calls.length - 6} more S3 call(s)`, state: "idle", detail: "in the decision log" });
}

/* An arrow from one decision: green when allowed, red with the trust policy's reason. */
function decisionStep(from, to, label, x, okDetail) {
  if (!x) return { from, to, label, state: "idle", detail: "not reached" };
  const ok = outcomeOf(x) === "allowed";
  return { from, to, label, state: ok ? "ok" : "bad", detail: ok ? okDetail : "",
           reason: ok ? "" : trustReason(x), link: x.id };
}

/* EKS Pod Identity: pod → agent → eks-auth → the token against the cluster's issuer → the
 * association → the role's trust for pods.eks.amazonaws.com (sts:AssumeRole, then
 * sts:TagSession) → session tags → credentials → S3. */
function podIdentityFlow(e) {
  const actors = ["Pod", "Agent", "eks-auth", "IAM", "S3"];
  const g = sameRequest(e);
  const pid = (g.find((x) => x.pod_identity) || {}).pod_identity;
  const check = (action, hop) => g.find((x) => ((x.checks || [])[0] || {}).action === action &&
                                               (!hop || (x.pod_identity && x.pod_identity.hop === hop)));
  const node = check("eks-auth:AssumeRoleForPodIdentity");
  const refused = g.find((x) => x.decision === "invalidToken");
  const steps = [];
  const door = pid ? pid.door : e.service === "pod-identity-agent" ? "agent" : "eks-auth";
  steps.push({ from: "Pod", to: "Agent", label: "the pod's projected token (audience pods.eks.amazonaws.com)", state: "ok",
               detail: door === "agent" ? "GET /v1/credentials on podiam's agent endpoint" : "an agent calling eks-auth itself" });
  if (node)
    steps.push({ from: "Agent", to: "eks-auth", label: "AssumeRoleForPodIdentity: the node's eks-auth permission",
                 state: outcomeOf(node) === "allowed" ? "ok" : "bad", detail: "allowed for " + (node.principal || ""),
                 reason: node.message || "denied", link: node.id });
  else
    steps.push({ from: "Agent", to: "eks-auth", label: "AssumeRoleForPodIdentity", state: "ok",
                 detail: "podiam's own agent: no node credentials needed" });
  let failed = node && outcomeOf(node) !== "allowed";
  const tokenStep = { from: "eks-auth", to: "eks-auth", label: "the token against the cluster's OIDC issuer (signature, iss, aud, times, pod)" };
  if (failed) steps.push(Object.assign(tokenStep, { state: "idle", detail: "not reached" }));
  else if (refused) {
    const t = refused.token || {};
    steps.push(Object.assign(tokenStep, { state: "bad", link: refused.id,
                                          reason: [refused.message, t.step ? `at ${t.step}: ${t.reason || ""}` : t.reason].filter(Boolean).join(" — ") }));
    failed = true;
  } else if (pid) steps.push(Object.assign(tokenStep, { state: "ok", detail: `issuer ${pid.issuer} (cluster ${pid.cluster})` }));
  else steps.push(Object.assign(tokenStep, { state: "idle", detail: "not in the decision log" }));
  if (!failed && !pid)
    steps.push({ from: "eks-auth", to: "eks-auth", label: "the Pod Identity association", state: "idle",
                 detail: "not in the decision log: no association for the service account, or its role is missing (podiam's log says which)" });
  else
    steps.push({ from: "eks-auth", to: "eks-auth", label: pid ? `the association for ${pid.subject.namespace}/${pid.subject.service_account}` : "the Pod Identity association",
                 state: failed ? "idle" : "ok",
                 detail: failed ? "not reached" : `${pid.association.id} → ${pid.association.role_arn}` });
  const role = pid ? pid.association.role_arn : "";
  const trustSteps = [["sts:AssumeRole", "the role's trust: pods.eks.amazonaws.com may sts:AssumeRole", "role"],
                      ["sts:TagSession", "the role's trust: sts:TagSession (the session tags)", "role"]];
  if (pid && pid.association.target_role_arn)
    trustSteps.push(["sts:AssumeRole", "the target role's trust (role chaining)", "target role"],
                    ["sts:TagSession", "the target role's trust: sts:TagSession", "target role"]);
  for (const [action, label, hop] of trustSteps) {
    const x = failed ? null : check(action, hop);
    if (!x && !failed && action === "sts:TagSession" && pid && pid.session_tags_disabled) {
      steps.push({ from: "eks-auth", to: "IAM", label, state: "idle", detail: "session tags disabled on the association: not asked" });
      continue;
    }
    const st = decisionStep("eks-auth", "IAM", label, x, "allows " + ((x && (x.checks || [])[0] || {}).resource || ""));
    steps.push(st);
    if (st.state !== "ok") failed = true;
  }
  const tags = pid && pid.session_tags ? Object.entries(pid.session_tags).map(([k, v]) => `${k}=${v}`).join(", ") : "";
  steps.push({ from: "eks-auth", to: "eks-auth", label: "session tags", state: failed ? "idle" : tags ? "ok" : "idle",
               detail: failed ? "not reached" : tags || "none (disabled on the association)" });
  const finalRole = pid && pid.association.target_role_arn ? pid.association.target_role_arn : role;
  steps.push({ from: "eks-auth", to: "Pod", label: "temporary credentials, through the agent", state: failed ? "idle" : "ok",
               detail: failed ? "not issued" : `${finalRole.replace(/^.*:role\//, "role/")} session ${pid ? pid.session_name : ""}` });
  s3Steps(steps, failed || !pid ? [] : s3CallsOfSession(e, finalRole, pid.session_name), failed);
  return { actors, steps };
}

function kubectlSteps(e) {
  const actors = ["kubectl", "API server", "IAM / mapping", "RBAC"];
  const u = e.user;
  const c = (e.checks || [])[0] || {};
  const ok = outcomeOf(e) === "allowed";
  const steps = [
    { from: "kubectl", to: "kubectl", label: "aws eks get-token: a presigned sts:GetCallerIdentity", state: u ? "ok" : "bad",
      detail: u ? "bearer token sent" : "", reason: u ? "" : "no identity: the token was refused" },
    { from: "kubectl", to: "API server", label: "authentication: the token's identity", state: u ? "ok" : "bad",
      detail: u ? u.arn || u.username : "", reason: u ? "" : e.message || "not authenticated" },
    { from: "API server", to: "IAM / mapping", label: "identity mapping (access entries, aws-auth)", state: u ? "ok" : "idle",
      detail: u ? `${u.username} in ${(u.groups || []).join(", ")} — ${u.mapped_by || ""}` : "not reached" },
    { from: "API server", to: "RBAC", label: `authorization: ${(c.action || "").replace(/^k8s:/, "")} ${c.resource || ""}`,
      state: !u ? "idle" : ok ? "ok" : "bad", detail: ok ? c.reason || "allowed" : "",
      reason: ok ? "" : c.reason || e.message || "denied" },
    { from: "API server", to: "kubectl", label: ok ? "the answer" : "403 Forbidden", state: !u ? "idle" : ok ? "ok" : "bad",
      detail: ok ? "" : "", reason: ok ? "" : "Forbidden" },
  ];
  return { actors, steps };
}

/* An SVG sequence diagram: one lifeline per actor, one arrow per step, coloured by state,
 * the reason written under a red arrow. */
/* Text cut into lines of at most n characters (at spaces where it can), at most max lines. */
function wrap(text, n, max) {
  const lines = [];
  let rest = text;
  while (rest.length > n && lines.length < max - 1) {
    let cut = rest.lastIndexOf(" ", n);
    if (cut < n / 2) cut = n;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, "");
  }
  lines.push(rest.length > n ? rest.slice(0, n - 1) + "…" : rest);
  return lines;
}

function sequenceDiagram(actors, steps) {
  /* projector mode (A+): larger text, more room per row */
  const big = document.documentElement.classList.contains("large") ? 1.35 : 1;
  const colW = 210, left = 20, top = 70, w = left * 2 + colW * actors.length;
  const lineH = Math.round(15 * big);
  /* the text under each arrow: one line for a detail, up to three for a refusal's reason
   * (bold, so wider per character) */
  const subPx = steps.map((s) => (s.state === "bad" ? 8.4 : 7.4) * big);
  const subs = steps.map((s, i) => {
    const t = s.state === "bad" ? s.reason || "refused" : s.detail;
    return t ? wrap(t, Math.floor((w - 16) / subPx[i]), s.state === "bad" ? 3 : 1) : [];
  });
  const rowH = subs.map((l) => Math.round(48 * big) + Math.max(1, l.length) * lineH);
  const h = top + rowH.reduce((x, y) => x + y, 0) + 30;
  const x = (a) => left + colW * actors.indexOf(a) + colW / 2;
  const svg = sv("svg", { viewBox: `0 0 ${w} ${h}`, role: "img",
                          "aria-label": "Sequence diagram: " + steps.map((s, i) => `${i + 1} ${s.label} ${s.state === "ok" ? "ok" : s.state === "bad" ? "failed" : "not reached"}`).join("; ") });
  actors.forEach((a) => {
    svg.append(sv("line", { class: "lifeline", x1: x(a), y1: 50, x2: x(a), y2: h - 10 }));
    svg.append(sv("g", { class: "actor" },
      sv("rect", { x: x(a) - 85, y: 8, width: 170, height: 40, rx: 8 }),
      sv("text", { x: x(a), y: 34, "text-anchor": "middle", "font-size": 17, text: a })));
  });
  /* labels start at the arrow's left end, moved left when they would leave the picture */
  const fit = (start, len, px) => Math.max(8, Math.min(start, w - 8 - len * px));
  let y = top + Math.round(22 * big);
  steps.forEach((s, i) => {
    const g = sv("g", { class: "arrow " + s.state, "data-step": String(i + 1) });
    const x1 = x(s.from), x2 = x(s.to);
    if (x1 === x2) { /* a check inside one actor: a loop */
      g.append(sv("path", { d: `M${x1} ${y - 8} h40 v18 h-36` }));
      g.append(sv("polygon", { points: `${x1 + 2},${y + 10} ${x1 + 12},${y + 4} ${x1 + 12},${y + 16}` }));
    } else {
      const dir = x2 > x1 ? 1 : -1;
      g.append(sv("line", { x1, y1: y, x2: x2 - dir * 10, y2: y }));
      g.append(sv("polygon", { points: `${x2},${y} ${x2 - dir * 12},${y - 7} ${x2 - dir * 12},${y + 7}` }));
    }
    const mark = s.state === "ok" ? "✓" : s.state === "bad" ? "✗" : "…";
    const start = x1 === x2 ? x1 + 50 : Math.min(x1, x2) + 8;
    const head = `${i + 1}. ${mark} ${s.label}`;
    g.append(sv("text", { class: "num", x: fit(start, head.length, 8.2 * big), y: y - 8, "font-size": 14 * big, text: head }));
    const lines = subs[i];
    const longest = Math.max(0, ...lines.map((l) => l.length));
    lines.forEach((l, k) => {
      g.append(sv("text", { class: s.state === "bad" ? "reason" : "detail", x: fit(start, longest, subPx[i]),
                            y: y + Math.round(18 * big) + k * lineH, "font-size": 12 * big, text: l }));
    });
    svg.append(g);
    y += rowH[i];
  });
  return svg;
}

function stepList(steps) {
  const ol = el("ol", { class: "steps", "aria-label": "The steps" });
  steps.forEach((s, i) => {
    const li = el("li", { class: s.state, "data-state": s.state },
      el("strong", {}, `${i + 1}. ${s.from} → ${s.to}: ${s.label}`),
      s.state === "bad" ? el("span", { class: "why" }, s.reason || "refused") : el("span", { class: "detail" }, s.detail || ""));
    if (s.link) li.append(" ", el("a", { href: "#decision/" + s.link }, s.link));
    ol.append(li);
  });
  return ol;
}

/* ---- state ------------------------------------------------------------------------- */

let stateSection = "iam";

function card(id, title, ...kids) {
  return el("section", { class: "card", id, tabindex: "-1", "aria-label": title }, el("h4", {}, title), ...kids);
}

function policyBlock(title, doc) {
  return el("div", {}, el("strong", {}, title), prettyJson(doc));
}

/* A managed policy's document: its default version's (fixtures format). */
function defaultDocument(p) {
  if (p.document) return p.document;
  const v = (p.versions || []).find((x) => x.default) || (p.versions || [])[0];
  return v ? v.document : null;
}

function renderIam(doc) {
  const out = [];
  for (const a of (doc.iam && doc.iam.accounts) || []) {
    out.push(el("h3", {}, "Account " + a.id));
    for (const r of a.roles || []) {
      const kids = [kv([["ARN", arnLink(`arn:aws:iam::${a.id}:role${r.path || "/"}${r.name}`)], ["Id", r.id],
                        ["Description", r.description], ["Created", r.created],
                        ["Attached", (r.attached_policies || []).length ? el("span", {}, ...(r.attached_policies || []).map((p) => el("span", {}, arnLink(p), " "))) : null]])];
      if (r.trust_policy) kids.push(policyBlock("Trust policy", r.trust_policy));
      for (const [n, p] of Object.entries(r.inline_policies || {})) kids.push(policyBlock("Inline policy " + n, p));
      if (r.permissions_boundary) kids.push(el("div", {}, "Permissions boundary: ", arnLink(r.permissions_boundary)));
      out.push(card(anchorOf("role", a.id, r.name), "Role " + r.name, ...kids));
    }
    for (const u of a.users || []) {
      const kids = [kv([["ARN", arnLink(`arn:aws:iam::${a.id}:user${u.path || "/"}${u.name}`)], ["Groups", (u.groups || []).join(", ")],
                        ["Access keys", (u.access_keys || []).map((k) => k.id || k.access_key_id || "").join(", ")]])];
      for (const p of u.attached_policies || []) kids.push(el("div", {}, "Attached: ", arnLink(p)));
      for (const [n, p] of Object.entries(u.inline_policies || {})) kids.push(policyBlock("Inline policy " + n, p));
      out.push(card(anchorOf("user", a.id, u.name), "User " + u.name, ...kids));
    }
    for (const p of a.policies || []) {
      const doc2 = defaultDocument(p);
      out.push(card(anchorOf("policy", a.id, p.name), "Managed policy " + p.name, doc2 ? prettyJson(doc2) : prettyJson(p)));
    }
    for (const o of a.oidc_providers || []) {
      const host = o.url.replace(/^https:\/\//, "");
      out.push(card(anchorOf("oidc", a.id, host), "OIDC provider " + host,
        kv([["ARN", `arn:aws:iam::${a.id}:oidc-provider/${host}`], ["Client IDs", (o.client_ids || []).join(", ")],
            ["Issuer", el("a", { href: "#state/issuers" }, o.url)]])));
    }
    const rest = Object.fromEntries(Object.entries(a).filter(([k]) => !["id", "roles", "users", "policies", "oidc_providers"].includes(k)));
    if (Object.keys(rest).length) {
      const d = el("details", {}, el("summary", {}, "More of this account (groups, ...)"));
      d.append(prettyJson(rest));
      out.push(d);
    }
  }
  return out.length ? out : [el("p", { class: "empty" }, "No IAM accounts.")];
}

async function renderIssuers() {
  const out = [];
  let issuers = [];
  try {
    issuers = (await api("/_podiam/oidc/issuers")).issuers || [];
  } catch (e) {
    return [el("p", { class: "message" }, "Cannot list the issuers: " + e.message)];
  }
  for (const i of issuers) {
    const base = "/_podiam/oidc/" + i.issuer.replace(/^https:\/\//, "");
    const kids = [kv([["Issuer", i.issuer], ["Cluster", i.cluster ? arnLink(i.cluster) : "stand-alone"],
                      ["Discovery", el("a", { href: base + "/.well-known/openid-configuration" }, base + "/.well-known/openid-configuration")],
                      ["Keys", el("a", { href: base + "/keys" }, base + "/keys")]])];
    try {
      kids.push(policyBlock("Discovery document", await api(base + "/.well-known/openid-configuration")));
      const disc = kids[kids.length - 1];
      void disc;
      kids.push(policyBlock("JWKS (public keys)", await api(base + "/keys")));
    } catch (e) {
      kids.push(el("p", { class: "message" }, e.message));
    }
    out.push(card(anchorOf("issuer", i.issuer), "Issuer " + i.issuer, ...kids));
  }
  return out.length ? out : [el("p", { class: "empty" }, "No issuer: create a cluster (eks:CreateCluster).")];
}

function renderClusters(doc) {
  const out = [];
  for (const c of (doc.eks && doc.eks.clusters) || []) {
    const kids = [kv([["ARN", `arn:aws:eks:${c.region}:${c.account}:cluster/${c.name}`], ["Role", arnLink(c.role_arn)],
                      ["Version", c.version], ["Issuer id", c.id], ["Creator", arnLink(c.creator_arn)]])];
    const objs = c.objects || {};
    const sas = objs.serviceaccounts || [];
    kids.push(el("h4", {}, `Service accounts (${sas.length})`));
    for (const sa of sas) {
      const role = ((sa.metadata || {}).annotations || {})["eks.amazonaws.com/role-arn"];
      kids.push(el("div", { class: "stmt" }, `${(sa.metadata || {}).namespace}/${(sa.metadata || {}).name}`,
        role ? el("span", {}, " → ", arnLink(role)) : ""));
    }
    const pods = objs.pods || [];
    kids.push(el("h4", {}, `Pods (${pods.length}), as the pod identity webhook mutated them`));
    for (const p of pods) {
      const d = el("details", {}, el("summary", {}, `${(p.metadata || {}).namespace}/${(p.metadata || {}).name}` +
        ` (service account ${(p.spec || {}).serviceAccountName || "default"})`));
      d.append(prettyJson(p.spec || p));
      kids.push(d);
    }
    const others = Object.keys(objs).filter((k) => k !== "pods" && k !== "serviceaccounts");
    for (const k of others) {
      const d = el("details", {}, el("summary", {}, `${k} (${objs[k].length})`));
      d.append(prettyJson(objs[k]));
      kids.push(d);
    }
    out.push(card(anchorOf("cluster", c.account, c.region, c.name), "Cluster " + c.name, ...kids));
  }
  return out.length ? out : [el("p", { class: "empty" }, "No clusters.")];
}

function renderBuckets(doc) {
  const out = [];
  for (const b of (doc.s3 && doc.s3.buckets) || []) {
    const kids = [kv([["ARN", "arn:aws:s3:::" + b.name], ["Account", b.account], ["Region", b.region],
                      ["Tags", b.tags ? Object.entries(b.tags).map(([k, v]) => k + "=" + v).join(", ") : ""]])];
    if (b.policy) kids.push(policyBlock("Bucket policy", b.policy));
    const objs = b.objects || [];
    const t = el("table", { class: "decisions" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Key"), el("th", { scope: "col" }, "Size"),
        el("th", { scope: "col" }, "Type"), el("th", { scope: "col" }, "Created"))),
      el("tbody", {}, objs.map((o) => el("tr", {}, el("td", { class: "mono" }, o.key), el("td", {}, o.size === undefined ? "" : o.size + " B"),
        el("td", {}, o.content_type || ""), el("td", {}, o.created || "")))));
    kids.push(el("h4", {}, `Objects (${objs.length})`), objs.length ? t : el("p", { class: "empty" }, "empty"));
    const rest = Object.fromEntries(Object.entries(b).filter(([k]) => !["name", "account", "region", "tags", "policy", "objects", "created"].includes(k)));
    if (Object.keys(rest).length) {
      const d = el("details", {}, el("summary", {}, "Settings"));
      d.append(prettyJson(rest));
      kids.push(d);
    }
    out.push(card(anchorOf("bucket", b.name), "Bucket " + b.name, ...kids));
  }
  return out.length ? out : [el("p", { class: "empty" }, "No buckets.")];
}

const SECTION_OF = { role: "iam", user: "iam", policy: "iam", oidc: "iam", cluster: "clusters", bucket: "buckets", issuer: "issuers" };

async function showState(sub, refresh) {
  let anchor = null;
  if (sub && sub.startsWith("state-")) {
    anchor = sub;
    sub = SECTION_OF[sub.split("-")[1]] || "iam";
  }
  stateSection = sub || stateSection || "iam";
  for (const a of document.querySelectorAll("#state-nav a"))
    a.setAttribute("aria-current", a.getAttribute("href") === "#state/" + stateSection ? "true" : "false");
  const body = $("#state-body");
  try {
    if (refresh || !stateDoc) await loadState();
  } catch (e) {
    body.replaceChildren(el("p", { class: "message" }, "Cannot read the state: " + e.message));
    return;
  }
  const parts = stateSection === "issuers" ? await renderIssuers()
    : stateSection === "clusters" ? renderClusters(stateDoc)
    : stateSection === "buckets" ? renderBuckets(stateDoc) : renderIam(stateDoc);
  body.replaceChildren(...parts);
  if (anchor) {
    const n = document.getElementById(anchor);
    if (n) {
      n.scrollIntoView({ block: "start" });
      n.classList.add("flash");
      n.focus();
      setTimeout(() => n.classList.remove("flash"), 2500);
    }
  }
}

/* ---- playground ---------------------------------------------------------------------- */

const SAMPLE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Sid: "Objects", Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"],
                Resource: "arn:aws:s3:::s3-echoer-demo/*" }],
}, null, 2);

/* "key=value" or "key:type=v1,v2" per line. */
function parseContext(text) {
  const out = [];
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const eq = line.indexOf("=");
    if (eq < 1) throw new Error(`context line "${line}" is not key=value`);
    let key = line.slice(0, eq).trim(), type = "string";
    const m = /^(.*):(string|stringList|numeric|numericList|boolean|booleanList|ip|ipList|binary|binaryList|date|dateList)$/.exec(key);
    if (m) { key = m[1]; type = m[2]; }
    const raw = line.slice(eq + 1).trim();
    out.push({ key, type, values: type.endsWith("List") ? raw.split(",").map((v) => v.trim()) : [raw] });
  }
  return out;
}

async function simulate(ev) {
  ev.preventDefault();
  const res = $("#pg-result");
  let context;
  try {
    context = parseContext($("#pg-context").value);
  } catch (e) {
    res.replaceChildren(el("p", { class: "message" }, e.message));
    return;
  }
  const body = {
    policies: [$("#pg-policy").value],
    action: $("#pg-action").value.trim(),
    resource: $("#pg-resource").value.trim(),
    caller: $("#pg-caller").value.trim(),
    resource_policy: $("#pg-resource-policy").value.trim(),
    context,
  };
  res.replaceChildren(el("p", { class: "empty" }, "Asking the simulator…"));
  try {
    const r = await api("/_podiam/console/api/simulate", { json: body });
    const kids = [];
    for (const e of r.EvaluationResults || []) {
      kids.push(el("div", { class: "result-head", "data-decision": e.EvalDecision },
        el("span", {}, e.EvalActionName, " on ", el("code", {}, e.EvalResourceName || "*")), badge(e.EvalDecision)));
      const st = (e.MatchedStatements || []).map((m) => `${m.SourcePolicyId || m.SourcePolicyType || "policy"}` +
        (m.StartPosition ? ` line ${m.StartPosition.Line}, column ${m.StartPosition.Column}` : ""));
      kids.push(kv([["Matched statements", st.join("; ") || "none"],
                    ["Missing context values", (e.MissingContextValues || []).join(", ")]]));
    }
    for (const t of r.traces || []) {
      kids.push(el("h4", {}, "Trace: ", t.action, " on ", el("code", {}, t.resource)));
      kids.push(traceView(t.trace));
    }
    const raw = el("details", {}, el("summary", {}, "The simulator's answer (JSON)"));
    raw.append(prettyJson(r.EvaluationResults));
    kids.push(raw);
    res.replaceChildren(...kids);
  } catch (e) {
    res.replaceChildren(el("p", { class: "message", role: "alert" }, e.message));
  }
}

function fillPolicyPicker() {
  const sel = $("#pg-load");
  const opts = [el("option", { value: "" }, "choose…")];
  const docs = [];
  for (const a of (stateDoc && stateDoc.iam && stateDoc.iam.accounts) || []) {
    for (const r of a.roles || []) {
      for (const [n, p] of Object.entries(r.inline_policies || {})) docs.push([`role ${r.name}: ${n}`, p]);
      if (r.trust_policy) docs.push([`role ${r.name}: trust policy`, r.trust_policy]);
    }
    for (const u of a.users || []) for (const [n, p] of Object.entries(u.inline_policies || {})) docs.push([`user ${u.name}: ${n}`, p]);
    for (const p of a.policies || []) {
      const d = defaultDocument(p);
      if (d) docs.push([`managed ${p.name}`, d]);
    }
  }
  for (const b of (stateDoc && stateDoc.s3 && stateDoc.s3.buckets) || []) if (b.policy) docs.push([`bucket ${b.name}: bucket policy`, b.policy]);
  docs.forEach(([label], i) => opts.push(el("option", { value: String(i) }, label)));
  sel.replaceChildren(...opts);
  sel.onchange = () => {
    const d = docs[Number(sel.value)];
    if (!d) return;
    const text = JSON.stringify(d[1], null, 2);
    if (d[0].includes("bucket policy")) $("#pg-resource-policy").value = text;
    else $("#pg-policy").value = text;
  };
}

async function showPlayground() {
  if (!$("#pg-policy").value) $("#pg-policy").value = SAMPLE_POLICY;
  try {
    if (!stateDoc) await loadState();
    fillPolicyPicker();
  } catch (e) {
    /* the picker stays empty; the playground works without it */
  }
}

/* ---- the scenario player ------------------------------------------------------------ */

/* podiam runs no command: a player (`podiamctl scenario --console`, on the user's side)
 * offers its scenarios and runs the steps this page asks for; podiam passes the commands
 * and the results (GET /_podiam/console/api/player, long-polled; POST .../player/command). */
const P = { version: -1, view: null, file: null, open: new Set(), polling: false, endpoints: null };

const PLAY_MARK = { passed: "✓", failed: "✗", skipped: "⊘", running: "⏵", pending: "·" };
const PLAY_TEXT = { passed: "passed", failed: "failed", skipped: "skipped", running: "running…", pending: "not run" };

async function pollPlayer() {
  if (P.polling) return;
  P.polling = true;
  for (;;) {
    try {
      const t0 = Date.now();
      const v = await api("/_podiam/console/api/player" + (P.version < 0 ? "" : `?after=${P.version}&wait=15`));
      const changed = !P.view || v.version !== P.version || v.player.state !== P.view.player.state;
      if (v.version < P.version) P.open.clear(); /* podiam restarted */
      P.version = v.version;
      P.view = v;
      if (changed && !$("#view-scenarios").hidden) renderPlayer();
      if (!changed && Date.now() - t0 < 1000)
        await new Promise((ok) => setTimeout(ok, 3000)); /* podiam has enough long polls */
    } catch (e) {
      await new Promise((ok) => setTimeout(ok, 2000));
    }
  }
}

async function playerCommand(body, what) {
  try {
    await api("/_podiam/console/api/player/command", { json: body });
    toast(what);
  } catch (e) {
    toast(e.message);
  }
}

function playerHowTo() {
  const origin = location.origin;
  const tls = P.endpoints && P.endpoints.https ? ` --tls-endpoint ${P.endpoints.https}` : "";
  return el("div", { class: "card howto" },
    el("h3", {}, "Start a player"),
    el("p", {}, "Scenarios run real clients (the aws CLI, kubectl, boto3, the JS SDK) as commands on your " +
      "machine. podiam does not run commands, so the player is podiamctl: in a terminal here, run"),
    el("pre", { class: "json", id: "sc-howto" },
      `podiamctl scenario --console --endpoint ${origin}${tls} scenarios/`),
    el("p", { class: "hint" }, "It offers the scenarios of that directory (or the files named) to this page, runs the " +
      "steps you ask for and sends their output back. The scenarios expect podiam started with their fixtures " +
      "(fixtures/seed.json for most); Reset state at the top brings podiam back to them. Ctrl-C ends the player. " +
      "docs/scenarios.md describes the format."));
}

function stepItem(sc, si, st, k, live) {
  const key = `${sc.file}#${k}`;
  const state = st.state || "pending";
  const li = el("li", { class: "sc-step " + state, "data-state": state, "data-step": String(k + 1) });
  const head = el("div", { class: "sc-head" },
    el("span", { class: "sc-mark", "aria-hidden": "true" }, PLAY_MARK[state] || "·"),
    el("strong", {}, `${k + 1}. ${st.name}`),
    el("span", { class: "badge " + (state === "passed" ? "ok" : state === "failed" ? "bad" : "idle") },
      PLAY_TEXT[state] || state),
    st.duration_ms && state !== "running" ? el("span", { class: "hint" }, (st.duration_ms / 1000).toFixed(1) + " s") : null,
    el("button", { type: "button", class: "sc-run", "data-key": "run-" + key, disabled: !live || state === "running",
                   "aria-label": `Run step ${k + 1}: ${st.name}`,
                   onclick: () => playerCommand({ action: "run_step", scenario: si, step: k }, `Step ${k + 1} asked of the player`) },
      "Run"));
  li.append(head, el("code", { class: "sc-cmd" }, st.command));
  if (state === "failed" || state === "skipped")
    if (st.why) li.append(el("span", { class: "why" }, st.why));
  if (st.output) {
    const d = el("details", { class: "sc-out", open: P.open.has(key) || state === "failed" },
      el("summary", { "data-key": "out-" + key }, "Output"),
      el("pre", { class: "json sc-output" }, st.output));
    d.addEventListener("toggle", () => { if (d.open) P.open.add(key); else P.open.delete(key); });
    li.append(d);
  }
  return li;
}

function renderPlayer() {
  const v = P.view;
  const box = $("#sc-body");
  const focusKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
  if (!v) {
    box.replaceChildren(el("p", { class: "empty" }, "Asking podiam for the player…"));
    return;
  }
  const live = v.player.state === "connected";
  const status = live ? `Player connected (podiamctl, pid ${v.player.pid}): ${v.scenarios.length} scenario(s) offered.`
    : v.player.state === "gone" ? "The player is gone (it stopped or has not been heard from for 30 s): its last results are below. Start a player again to go on."
    : "No player connected.";
  const kids = [el("p", { id: "sc-status", class: "sc-status " + v.player.state, role: "status" }, status)];
  if (!live) kids.push(playerHowTo());
  if (v.scenarios.length) {
    const files = v.scenarios.map((s) => s.file);
    if (!files.includes(P.file)) P.file = files.includes("seed-walkthrough.json") ? "seed-walkthrough.json" : files[0];
    const si = files.indexOf(P.file);
    const sc = v.scenarios[si];
    const pick = el("select", { id: "sc-pick", "data-key": "pick" },
      ...v.scenarios.map((s) => el("option", { value: s.file, selected: s.file === P.file }, `${s.name} (${s.file})`)));
    pick.addEventListener("change", () => { P.file = pick.value; renderPlayer(); });
    const done = sc.steps.filter((s) => s.state === "passed" || s.state === "skipped").length;
    const failed = sc.steps.filter((s) => s.state === "failed").length;
    const waiting = v.queue.filter((q) => q.scenario === si).length;
    kids.push(
      el("div", { class: "row sc-bar" },
        el("label", {}, "Scenario ", pick),
        el("button", { type: "button", class: "primary", id: "sc-next", "data-key": "next", disabled: !live,
                       onclick: () => {
                         const k = sc.steps.findIndex((s) => s.state !== "passed" && s.state !== "skipped");
                         if (k < 0) toast("Every step has run: Reset scenario to start over.");
                         else playerCommand({ action: "run_step", scenario: si, step: k }, `Step ${k + 1} asked of the player`);
                       } }, "Run next step"),
        el("button", { type: "button", id: "sc-all", "data-key": "all", disabled: !live,
                       onclick: () => playerCommand({ action: "run_all", scenario: si }, "The rest of the scenario asked of the player") },
          "Run all"),
        el("button", { type: "button", id: "sc-reset", "data-key": "reset", disabled: !live,
                       "aria-label": "Reset the scenario: forget its results and captured variables",
                       onclick: () => playerCommand({ action: "reset", scenario: si }, "Scenario reset asked of the player") },
          "Reset scenario")),
      el("p", { class: "hint" }, sc.description || ""),
      el("p", { class: "count", id: "sc-count" },
        `${done} of ${sc.steps.length} step(s) done, ${failed} failed` + (waiting ? `, ${waiting} command(s) waiting for the player` : "") +
        (sc.fixtures ? ` — expects podiam's fixtures ${sc.fixtures}` : "")),
      el("ol", { class: "sc-steps", id: "sc-steps", "aria-label": "Steps of " + sc.name },
        ...sc.steps.map((st, k) => stepItem(sc, si, st, k, live))));
  }
  box.replaceChildren(...kids);
  if (focusKey) {
    const n = box.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (n) n.focus();
  }
}

async function showScenarios(sub) {
  if (sub) P.file = sub;
  if (!P.endpoints) {
    try { P.endpoints = (await api("/_podiam/health")).endpoints || {}; } catch (e) { P.endpoints = {}; }
  }
  renderPlayer();
  pollPlayer();
}

/* ---- clock, reset, display -------------------------------------------------------- */

async function refreshClock() {
  try {
    const c = await api("/_podiam/clock");
    const n = $("#clock");
    const off = c.offset_ms || 0;
    n.textContent = c.time + (off ? ` (${off > 0 ? "+" : ""}${Math.round(off / 60000)} min)` : "");
    n.classList.toggle("shifted", off !== 0);
  } catch (e) {
    $("#clock").textContent = "podiam unreachable";
  }
}

async function moveClock(body, what) {
  try {
    await api("/_podiam/clock", { json: body });
    toast(what);
  } catch (e) {
    toast(e.message);
  }
  refreshClock();
}

async function resetState() {
  if (!confirm("Reset podiam's state to its fixtures? Every change made since the start is lost.")) return;
  try {
    await api("/_podiam/reset", { json: {} });
    D.byId.clear();
    D.open.clear();
    stateDoc = null;
    renderDecisions();
    refreshHandshakes();
    toast("State reset to the fixtures; clock back to real time.");
    route();
  } catch (e) {
    toast(e.message);
  }
  refreshClock();
}

function setDisplay(name, on) {
  document.documentElement.classList.toggle(name, on);
  const b = $(name === "large" ? "#large" : "#contrast");
  b.setAttribute("aria-pressed", on ? "true" : "false");
  if (name === "large" && !$("#view-handshake").hidden) drawSelected();
  try { localStorage.setItem("podiam-console-" + name, on ? "1" : ""); } catch (e) { /* private mode */ }
}

/* ---- routing ---------------------------------------------------------------------- */

const VIEWS = ["decisions", "handshake", "state", "playground", "scenarios"];

function route() {
  const h = decodeURIComponent(location.hash.replace(/^#/, ""));
  const [head, ...rest] = h.split("/");
  const sub = rest.join("/");
  let view = head === "decision" ? "decisions" : VIEWS.includes(head) ? head : "decisions";
  for (const v of VIEWS) $("#view-" + v).hidden = v !== view;
  for (const a of document.querySelectorAll(".views a"))
    a.setAttribute("aria-current", a.dataset.view === view ? "page" : "false");
  document.title = "podiam console — " + view;
  if (head === "decision" && sub) goToDecision(sub);
  else if (view === "decisions") renderDecisions();
  else if (view === "handshake") {
    if (sub) { hsSelected = sub; if (!D.byId.has(sub)) goToDecision(sub).then(refreshHandshakes); }
    refreshHandshakes();
  } else if (view === "state") showState(sub, false);
  else if (view === "playground") showPlayground();
  else if (view === "scenarios") showScenarios(sub);
}

function start() {
  for (const name of ["large", "hc"]) {
    let on = false;
    try { on = localStorage.getItem("podiam-console-" + name) === "1"; } catch (e) { /* none */ }
    if (on) setDisplay(name, true);
  }
  $("#large").addEventListener("click", () => setDisplay("large", !document.documentElement.classList.contains("large")));
  $("#contrast").addEventListener("click", () => setDisplay("hc", !document.documentElement.classList.contains("hc")));
  for (const b of document.querySelectorAll("[data-advance]")) {
    const ms = Number(b.dataset.advance);
    b.addEventListener("click", () => moveClock({ advance_ms: ms }, "Clock advanced by " + b.textContent));
  }
  $("#clock-zero").addEventListener("click", () => moveClock({ offset_ms: 0 }, "Clock back to real time"));
  $("#reset").addEventListener("click", resetState);
  /* the skip link moves the focus to the view, not the route (#main is no view) */
  $(".skip").addEventListener("click", (ev) => { ev.preventDefault(); $("#main").focus(); });
  $("#filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = $("#f-goto").value.trim();
    if (id) location.hash = "#decision/" + (/^\d+$/.test(id) ? "d-" + id : id);
    else renderDecisions();
  });
  for (const id of ["#f-principal", "#f-action"]) $(id).addEventListener("input", renderDecisions);
  for (const id of ["#f-service", "#f-outcome"]) $(id).addEventListener("change", renderDecisions);
  $("#pause").addEventListener("click", () => {
    D.paused = !D.paused;
    $("#pause").setAttribute("aria-pressed", D.paused ? "true" : "false");
    $("#pause").textContent = D.paused ? "Resume" : "Pause";
    if (!D.paused) renderDecisions();
  });
  $("#hs-list").addEventListener("change", () => { hsSelected = $("#hs-list").value; drawSelected(); });
  $("#state-refresh").addEventListener("click", () => showState(stateSection, true));
  $("#pg").addEventListener("submit", simulate);
  window.addEventListener("hashchange", route);
  route();
  loadState().then(() => renderDecisions(), () => {}); /* ARN links in the rows */
  pollDecisions();
  refreshClock();
  setInterval(refreshClock, 10000);
}

start();
