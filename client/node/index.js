// podiam test helpers for Node (node:test, jest, vitest): start podiam on free ports and
// read its ready object, snapshot/restore it between tests, make fresh accounts, give the
// JS SDK v3 clients their settings, and assert on podiam's decision log. No dependencies:
// the SDK client classes come from the project under test (podiam.client(S3Client)).
// docs/testing-with-podiam.md in the podiam repository has the whole guide.
import { AssertionError } from "node:assert";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export class PodiamError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = "PodiamError";
    this.status = status; // HTTP status of podiam's answer, when it answered
    this.code = code; // podiam's error code ("NoSuchSnapshot", ...)
  }
}

/** The podiam binary: the argument, else $PODIAM_BIN, else `podiam` on PATH. */
export function findBinary(binary) {
  if (binary) return binary;
  if (process.env.PODIAM_BIN) return process.env.PODIAM_BIN;
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    const p = path.join(dir || ".", "podiam");
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw new PodiamError("podiam not found: pass binary, set PODIAM_BIN, or put podiam on PATH " +
    "(build it with .ci/build; it is build/emulator/podiam)");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A decision in one line: id, action, resource, decision, caller, message. */
export function describe(d) {
  const checks = d.checks || [];
  const c = checks.find((x) => x.decision !== "allowed") || checks[0] || {};
  return `${d.id} ${c.action || d.operation} on ${c.resource || "-"}: ${d.decision} for ` +
    `${d.principal}${d.message ? ` (${d.message})` : ""}`;
}

function denyStatements(d) {
  const out = [];
  for (const c of d.checks || [])
    for (const m of c.matched || [])
      if (m.effect === "Deny") out.push({ policy: m.policy, statement: m.statement, sid: m.sid });
  return out;
}

function matches(d, pattern) {
  if (pattern.principal && d.principal !== pattern.principal) return false;
  if (pattern.decision && d.decision !== pattern.decision) return false;
  return (d.checks || []).some((c) => c.decision !== "allowed" &&
    (!pattern.action || (c.action || "").toLowerCase() === pattern.action.toLowerCase()) &&
    (!pattern.resource || c.resource === pattern.resource));
}

export class Podiam {
  constructor(endpoint, { ready = {}, proc = null, workdir = null } = {}) {
    this.endpoint = endpoint.replace(/\/$/, "");
    this.ready = ready;
    this.region = ready.region || "us-east-1";
    this.proc = proc;
    this.workdir = workdir;
    this.log = "";
  }

  /** Start podiam on free loopback ports (--listen 127.0.0.1:0, :memory: state) and wait
   * for its ready object. opts: binary, args (more `serve` flags), fixtures (files),
   * state, decisionLogSize, env, timeoutMs. */
  static async start(opts = {}) {
    const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "podiam-"));
    const readyFile = path.join(workdir, "ready.json");
    const args = ["serve", "--listen", "127.0.0.1:0", "--state", opts.state || ":memory:",
      "--ready-file", readyFile, "--ready-format", "json",
      "--decision-log-size", String(opts.decisionLogSize || 100000)];
    for (const f of opts.fixtures || []) args.push("--fixtures", f);
    args.push(...(opts.args || []));
    const proc = spawn(findBinary(opts.binary), args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...(opts.env || {}) },
    });
    const p = new Podiam("http://unknown", { proc, workdir });
    proc.stderr.on("data", (d) => {
      p.log = (p.log + d).slice(-200000);
    });
    let exited = false;
    proc.on("exit", () => { exited = true; });
    const deadline = Date.now() + (opts.timeoutMs || 30000);
    while (!fs.existsSync(readyFile)) {
      if (exited || Date.now() > deadline) {
        if (!exited) proc.kill("SIGKILL");
        fs.rmSync(workdir, { recursive: true, force: true });
        throw new PodiamError(`podiam did not start (${args.join(" ")}):\n${p.log.slice(-4000)}`);
      }
      await sleep(5);
    }
    p.ready = JSON.parse(fs.readFileSync(readyFile, "utf8"));
    p.endpoint = p.ready.endpoints.http;
    p.region = p.ready.region || "us-east-1";
    return p;
  }

  /** A podiam that is already running (endpoint, else $PODIAM_ENDPOINT); stop() leaves it. */
  static async connect(endpoint = process.env.PODIAM_ENDPOINT || process.env.AWS_ENDPOINT_URL) {
    if (!endpoint) throw new PodiamError("no endpoint: pass one, or set PODIAM_ENDPOINT");
    const p = new Podiam(endpoint);
    const h = await p.health();
    p.region = h.region || p.region;
    p.ready = { endpoints: h.endpoints || { http: endpoint }, region: p.region };
    return p;
  }

  /** Stop with SIGTERM; rejects when podiam does not exit 0 (its log is in the error). */
  async stop() {
    if (this.proc) {
      const proc = this.proc;
      this.proc = null;
      const done = proc.exitCode !== null ? [proc.exitCode] : (proc.kill("SIGTERM"), await once(proc, "exit"));
      if (done[0] !== 0)
        throw new PodiamError(`podiam exited with ${done[0]} on SIGTERM:\n${this.log.slice(-4000)}`);
    }
    if (this.workdir) {
      fs.rmSync(this.workdir, { recursive: true, force: true });
      this.workdir = null;
    }
  }

  // --- where it is ---------------------------------------------------------------------
  get tlsEndpoint() { return this.ready.endpoints?.https; }
  get proxy() { return this.ready.endpoints?.proxy; }
  get caFile() { return this.ready.ca_file; }

  /** Variables that point AWS SDKs and CLIs at this podiam (for child processes). */
  env({ accessKeyId = "test", secretAccessKey = "test", sessionToken } = {}) {
    const e = { AWS_ENDPOINT_URL: this.endpoint, AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region };
    if (sessionToken) e.AWS_SESSION_TOKEN = sessionToken;
    return e;
  }

  /** Settings for a JS SDK v3 client: endpoint, region, credentials, no retries (a test
   * sees each answer as it came), path-style S3 addressing. */
  clientConfig(credentials = { accessKeyId: "test", secretAccessKey: "test" }, extra = {}) {
    return { endpoint: this.endpoint, region: this.region, credentials, maxAttempts: 1,
      forcePathStyle: true, ...extra };
  }

  /** new ClientClass(...) wired to podiam: p.client(S3Client), p.client(IAMClient, creds). */
  client(ClientClass, credentials, extra) {
    return new ClientClass(this.clientConfig(credentials, extra));
  }

  // --- the admin API -------------------------------------------------------------------
  /** Call /_podiam/PATH; JSON answers are parsed, errors reject with PodiamError. */
  async admin(method, p, body) {
    const headers = { "X-Podiam-Admin": "1" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(`${this.endpoint}/_podiam/${p}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new PodiamError(`${method} /_podiam/${p}: podiam does not answer: ${e.message}`);
    }
    const text = await res.text();
    let json = null;
    if ((res.headers.get("content-type") || "").includes("json")) {
      try { json = JSON.parse(text); } catch { /* not JSON after all */ }
    }
    if (!res.ok)
      throw new PodiamError(`${method} /_podiam/${p}: ${res.status} ${json?.message || text.slice(0, 300)}`,
        res.status, json?.error);
    return json ?? text;
  }

  health() { return this.admin("GET", "health"); }
  /** Back to the start: empty, the --fixtures files loaded again, the clock at 0. */
  reset() { return this.admin("POST", "reset", {}); }
  /** Save the whole state under name (replacing a snapshot of that name). */
  snapshot(name) { return this.admin("POST", "snapshots", { name }); }
  restore(name) { return this.admin("POST", `snapshots/${encodeURIComponent(name)}/restore`, {}); }
  deleteSnapshot(name) { return this.admin("DELETE", `snapshots/${encodeURIComponent(name)}`); }
  async snapshots() { return (await this.admin("GET", "snapshots")).snapshots; }

  /** Save the state now; the returned function restores it (and deletes the snapshot):
   * `beforeEach(async () => { undo = await p.checkpoint(); }); afterEach(() => undo());` */
  async checkpoint(name = `node-${process.pid}-${++checkpoints}`) {
    await this.snapshot(name);
    return async () => {
      await this.restore(name);
      await this.deleteSnapshot(name);
    };
  }

  /** A whole new account with root keys: { id, credentials, rootArn, delete() }. */
  async createAccount(id) {
    const a = await this.admin("POST", "accounts", id ? { id } : {});
    return {
      id: a.account_id,
      rootArn: `arn:aws:iam::${a.account_id}:root`,
      credentials: { accessKeyId: a.access_key_id, secretAccessKey: a.secret_access_key },
      delete: () => this.deleteAccount(a.account_id),
    };
  }

  deleteAccount(id) { return this.admin("DELETE", `accounts/${encodeURIComponent(id)}`); }
  advanceClock(ms) { return this.admin("POST", "clock", { advance_ms: Math.trunc(ms) }); }

  // --- decisions -----------------------------------------------------------------------
  /** A mark of the decision log: decisions(mark) are the calls after it. */
  async mark() { return (await this.admin("GET", "decisions/mark")).mark; }

  /** Every decision after the mark, oldest first (rejects with status 410 when the log
   * dropped some: never a silent partial answer). */
  async decisions(since) {
    return (await this.admin("GET", `decisions?since=${encodeURIComponent(since)}`)).decisions;
  }

  /** What the calls since the mark proved (GET /_podiam/decisions/report). */
  report({ since = "d-0", principal, allowPartial = false } = {}) {
    const q = new URLSearchParams({ since });
    if (principal) q.set("principal", principal);
    if (allowPartial) q.set("allow_partial", "1");
    return this.admin("GET", `decisions/report?${q}`);
  }

  /** The least-privilege policy document of a role or user ARN over the calls since the
   * mark, or null when it was allowed nothing. */
  async leastPrivilegePolicy(principal, since) {
    const r = await this.report({ since, principal });
    return r.principals.find((p) => p.principal === principal)?.least_privilege ?? null;
  }

  /** Run call (a function returning a promise) and require it to be denied as described:
   * { action, decision: "explicitDeny" | "implicitDeny" | "denied", policy, statement
   * (Sid or index) }. Resolves to { error, decision }. */
  async expectDenied(call, { action, decision = "denied", policy, statement } = {}) {
    const mark = await this.mark();
    let error;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    const ds = (await this.decisions(mark)).filter((d) => d.decision !== "allowed" &&
      (!action || matches(d, { action })));
    if (!error) throw assertionError(`the call was not denied${action ? ` (${action})` : ""}`);
    const d = ds[ds.length - 1];
    if (!d) throw assertionError(`the call failed, but podiam denied nothing${action ? ` on ${action}` : ""}: ${error}`);
    if (decision !== "denied" && d.decision !== decision)
      throw assertionError(`expected ${decision}, got ${describe(d)}`);
    if (policy || statement !== undefined) {
      const denies = denyStatements(d);
      const ok = denies.filter((x) => (!policy || x.policy === policy) &&
        (statement === undefined || statement === x.statement || statement === x.sid));
      if (!ok.length)
        throw assertionError(`expected an explicit deny by ${policy || "any policy"}` +
          `${statement === undefined ? "" : ` statement ${statement}`}; the deny statements ` +
          `that applied: ${JSON.stringify(denies)} (${describe(d)})`);
    }
    return { error, decision: d };
  }

  /** Reject listing every denial after the mark that matches none of allow (objects with
   * any of action, principal, resource, decision). */
  async assertNoDenials(since, allow = []) {
    const left = (await this.decisions(since)).filter((d) => d.decision !== "allowed" &&
      !allow.some((a) => matches(d, a)));
    if (left.length)
      throw assertionError(`${left.length} unexpected denial(s) since ${since}:\n  ` +
        left.slice(0, 20).map(describe).join("\n  "));
  }
}

let checkpoints = 0;

// node:assert's AssertionError, so test runners show these as failed assertions
function assertionError(message) {
  return new AssertionError({ message });
}

/** Start podiam (Podiam.start). */
export function start(opts) { return Podiam.start(opts); }

/** Start n podiams in parallel, each on its own free ports. */
export async function startMany(n, opts) {
  const results = await Promise.allSettled(Array.from({ length: n }, () => Podiam.start(opts)));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.allSettled(results.filter((r) => r.status === "fulfilled").map((r) => r.value.stop()));
    throw failed.reason;
  }
  return results.map((r) => r.value);
}

export default { Podiam, PodiamError, start, startMany, describe, findBinary };
