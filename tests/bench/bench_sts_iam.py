#!/usr/bin/env python3
"""bench_sts_iam.py - podiam next to moto's server on the same machine, in one run.

What it measures (docs/performance.md shows a run and how to read it):

  (a) STS GetCallerIdentity and (b) IAM GetRole, requests per second, with N concurrent
      keep-alive connections (default 1 and 16). Each operation is one SigV4-signed request
      built once with botocore (root credentials test/test) and replayed by the loader:
      AWS and podiam accept a replayed signed request within its 15-minute window, so
      every replay passes podiam's full signature check. (moto does not verify signatures
      at all, so podiam does more work per request than moto here.)
  (c) cold start: from spawning the process to the first 200 answer to a signed
      GetCallerIdentity, in ms; and idle RSS (VmRSS of /proc/PID/status, summed over the
      process and its children) right after that first answer.

The load comes from wrk (Debian: apt install wrk) with a Lua script carrying the signed
method, headers and body; without wrk a small Python loader (threads, one http.client
keep-alive connection each) is used, and the table says so. podiam and moto alternate
within each repetition so that both see the same machine conditions; the table reports
medians over the repetitions and the podiam/moto ratio. Nothing here is a pass/fail test.

Usage:
  tests/bench/bench_sts_iam.py [--podiam build/emulator/podiam] [--moto moto_server]
                               [--conns 1,16] [--duration 5] [--reps 3] [--starts 5]
Needs: python3 with botocore (for signing), moto_server (pip install 'moto[server]').
"""
import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
OPS = {
    "GetCallerIdentity": ("sts", {"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                          b"<Arn>"),
    "GetRole": ("iam", {"Action": "GetRole", "Version": "2010-05-08", "RoleName": "bench"},
                b"<RoleName>bench</RoleName>"),
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def signed(endpoint, service, params):
    """(method, headers, body) of a SigV4-signed query request, built by botocore."""
    body = urllib.parse.urlencode(params)
    req = AWSRequest(method="POST", url=endpoint + "/", data=body.encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials("test", "test"), service, "us-east-1").add_auth(req)
    return "POST", dict(req.headers.items()), body.encode()


def send(endpoint, req, conn=None):
    u = urllib.parse.urlsplit(endpoint)
    c = conn or http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    method, headers, body = req
    c.request(method, "/", body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r.status, data


def rss_kib(pid):
    """VmRSS of pid and all its descendants, in KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/status" % p) as f:
                m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
            total += int(m.group(1)) if m else 0
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return total


class Server:
    def __init__(self, name, cmd, port):
        self.name, self.cmd, self.port = name, cmd, port
        self.endpoint = "http://127.0.0.1:%d" % port
        self.proc = None

    def start(self, timeout=60):
        """Spawn; return ms until the first 200 answer to a signed GetCallerIdentity."""
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        service, params, _ = OPS["GetCallerIdentity"]
        req = signed(self.endpoint, service, params)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited during start: %s" % (self.name, self.cmd))
            try:
                if send(self.endpoint, req)[0] == 200:
                    return (time.monotonic() - t0) * 1000
            except OSError:
                pass
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("%s did not answer within %d s" % (self.name, timeout))
            time.sleep(0.002)

    def stop(self):
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.proc = None


LUA = """wrk.method = %s
wrk.body = %s
%s
"""


def lua_str(s):
    return '"' + "".join(c if c.isalnum() or c in " ./:=,;-_+%&()" else "\\%03d" % ord(c)
                         for c in s) + '"'


def run_wrk(endpoint, req, conns, duration, tmpdir):
    method, headers, body = req
    script = os.path.join(tmpdir, "req.lua")
    with open(script, "w") as f:
        f.write(LUA % (lua_str(method), lua_str(body.decode()), "\n".join(
            "wrk.headers[%s] = %s" % (lua_str(k), lua_str(v)) for k, v in headers.items())))
    threads = max(1, min(conns, os.cpu_count() or 1))
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration,
                          "-s", script, endpoint + "/"], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    if bad or errs:
        raise RuntimeError("wrk saw failures against %s:\n%s" % (endpoint, out))
    return rps


def run_python(endpoint, req, conns, duration, tmpdir):
    counts = [0] * conns
    stop = time.monotonic() + duration
    failures = []

    def worker(i):
        u = urllib.parse.urlsplit(endpoint)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        while time.monotonic() < stop:
            status, _ = send(endpoint, req, c)
            if status != 200:
                failures.append(status)
                return
            counts[i] += 1
        c.close()

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failures:
        raise RuntimeError("non-200 answers from %s: %s" % (endpoint, failures[:5]))
    return sum(counts) / (time.monotonic() - t0)


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            model = m.group(1) if m else model
    except OSError:
        pass
    return "%s, nproc %d, %s %s" % (model, os.cpu_count() or 0, platform.system(),
                                    platform.release())


def moto_command(arg):
    path = shutil.which(arg) or arg
    if "/shims/" in path and shutil.which("pyenv"):  # skip the pyenv shim's own start-up
        real = subprocess.run(["pyenv", "which", os.path.basename(path)], capture_output=True,
                              text=True).stdout.strip()
        path = real or path
    return path


def versions(podiam, moto):
    pv = "?"
    try:
        pv = subprocess.run([podiam, "--version"], capture_output=True, text=True,
                            timeout=10).stdout.strip() or "?"
    except OSError:
        pass
    mv = "?"
    try:
        head = open(moto).readline()
        py = head[2:].strip() if head.startswith("#!") else sys.executable
        mv = subprocess.run(py.split() + ["-c", "import moto; print(moto.__version__)"],
                            capture_output=True, text=True, timeout=30).stdout.strip() or "?"
    except OSError:
        pass
    return pv, mv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--podiam", default=os.path.join(ROOT, "build", "emulator", "podiam"))
    ap.add_argument("--moto", default="moto_server")
    ap.add_argument("--conns", default="1,16")
    ap.add_argument("--duration", type=int, default=5, help="seconds per load run")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of every load run")
    ap.add_argument("--starts", type=int, default=5, help="cold starts per server")
    ap.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto")
    args = ap.parse_args()
    conns = [int(x) for x in args.conns.split(",")]
    loader = args.loader
    if loader == "auto":
        loader = "wrk" if shutil.which("wrk") else "python"
    load = run_wrk if loader == "wrk" else run_python
    moto = moto_command(args.moto)

    def podiam_server():
        port = free_port()
        return Server("podiam", [args.podiam, "serve", "--listen", "127.0.0.1:%d" % port,
                                 "--listen-tls", "off", "--listen-proxy", "off", "--state",
                                 ":memory:"], port)

    def moto_server():
        port = free_port()
        return Server("moto", [moto, "-H", "127.0.0.1", "-p", str(port)], port)

    makers = [podiam_server, moto_server]
    tmpdir = tempfile.mkdtemp(prefix="podiam-bench-")
    results = {}  # (server, op, conns) -> [rps]
    starts = {"podiam": [], "moto": []}
    rss = {"podiam": [], "moto": []}
    try:
        # (c) cold start and idle RSS, alternating.
        for _ in range(args.starts):
            for make in makers:
                s = make()
                try:
                    starts[s.name].append(s.start())
                    time.sleep(0.2)
                    rss[s.name].append(rss_kib(s.proc.pid))
                finally:
                    s.stop()
        # (a), (b): one long-lived server each, requests re-signed for every run.
        servers = [make() for make in makers]
        for s in servers:
            s.start()
            iam = signed(s.endpoint, "iam", {"Action": "CreateRole", "Version": "2010-05-08",
                                             "RoleName": "bench",
                                             "AssumeRolePolicyDocument": TRUST})
            status, body = send(s.endpoint, iam)
            if status != 200:
                raise RuntimeError("%s CreateRole: %d %s" % (s.name, status, body[:300]))
        for rep in range(args.reps):
            for op, (service, params, expect) in OPS.items():
                for n in conns:
                    for s in (servers if rep % 2 == 0 else servers[::-1]):
                        req = signed(s.endpoint, service, params)
                        status, body = send(s.endpoint, req)
                        if status != 200 or expect not in body:
                            raise RuntimeError("%s %s: %d %s" % (s.name, op, status, body[:300]))
                        rps = load(s.endpoint, req, n, args.duration, tmpdir)
                        results.setdefault((s.name, op, n), []).append(rps)
                        print("  rep %d %-17s c=%-3d %-6s %9.0f req/s" % (rep + 1, op, n, s.name,
                                                                        rps), file=sys.stderr)
        for s in servers:
            s.stop()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    pv, mv = versions(args.podiam, moto)
    med = statistics.median
    print("machine: %s" % machine())
    print("podiam: %s; moto: %s (moto_server); loader: %s; %d s per run, %d repetitions, "
          "medians" % (pv, mv, loader, args.duration, args.reps))
    print()
    print("| operation | connections | podiam req/s | moto req/s | podiam/moto |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for op in OPS:
        for n in conns:
            p, m = med(results[("podiam", op, n)]), med(results[("moto", op, n)])
            print("| %s | %d | %.0f | %.0f | %.1fx |" % (op, n, p, m, p / m))
    print()
    print("| start-up | podiam | moto | podiam/moto |")
    print("| --- | ---: | ---: | ---: |")
    ps, ms = med(starts["podiam"]), med(starts["moto"])
    print("| cold start to first answer (ms, median of %d) | %.0f | %.0f | %.3fx |"
          % (args.starts, ps, ms, ps / ms))
    pr, mr = med(rss["podiam"]) / 1024, med(rss["moto"]) / 1024
    print("| idle RSS after first answer (MiB) | %.1f | %.1f | %.2fx |" % (pr, mr, pr / mr))


if __name__ == "__main__":
    main()
