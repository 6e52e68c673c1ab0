// Start a real podiam for the JS SDK tests (free loopback ports, :memory: state), or use
// PODIAM_ENDPOINT when set. Mirrors tests/e2e/podiam_harness.py.
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import readline from "node:readline";

const here = path.dirname(fileURLToPath(import.meta.url));

export async function startPodiam(...args) {
  if (process.env.PODIAM_ENDPOINT) {
    return { endpoint: process.env.PODIAM_ENDPOINT, tls: process.env.PODIAM_TLS_ENDPOINT, stop() {} };
  }
  const bin = process.env.PODIAM_BIN || path.join(here, "..", "..", "..", "build", "emulator", "podiam");
  // The forward proxy on a free port too (PODIAM_LISTEN_PROXY is --listen-proxy's variable;
  // a podiam without a proxy ignores it).
  const env = { ...process.env, PODIAM_LISTEN_PROXY: "127.0.0.1:0" };
  const proc = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0",
                           "--state", ":memory:", ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let log = "";
  proc.stderr.on("data", (d) => { log += d; });
  const rl = readline.createInterface({ input: proc.stdout });
  const [line] = await Promise.race([
    once(rl, "line"),
    once(proc, "exit").then(() => { throw new Error("podiam exited: " + log); }),
  ]);
  const m = /ready: endpoint=(\S+)(?: tls=(\S+))?/.exec(line);
  if (!m) throw new Error("no ready line: " + line);
  return {
    endpoint: m[1],
    tls: m[2],
    logs: () => log,
    async stop() { proc.kill("SIGTERM"); await once(proc, "exit"); },
  };
}

export function config(p, creds = { accessKeyId: "test", secretAccessKey: "test" }) {
  return { endpoint: p.endpoint, region: "us-east-1", credentials: creds, maxAttempts: 1 };
}
