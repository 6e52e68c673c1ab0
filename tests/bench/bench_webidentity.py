#!/usr/bin/env python3
"""bench_webidentity.py - sts:AssumeRoleWithWebIdentity per second: podiam against moto_server.

What it measures: the whole IRSA exchange as a pod's SDK makes it, an unsigned form POST
carrying a real RS256 service-account token, answered with fresh credentials. podiam does
all of the work AWS does (provider lookup, audience, JWKS of the hosted issuer, RSA-2048
signature check, time claims, trust-policy evaluation with the OIDC condition keys, sealing
a session token); moto_server checks nothing and returns credentials, so it is a floor for
"an emulator answering the call", not an equal workload.

How: both servers run on loopback (podiam from the build tree, :memory: state, --log-level
warn so the access log does not dominate; moto_server from PATH). Each gets the same role
and the same token; then wrk (with a Lua script for the POST body; Python threads when wrk
is absent) drives each for --seconds, alternating podiam, moto, podiam, ... for --rounds
rounds, and the medians are reported. Every response must be 200 (wrk's non-2xx count is
checked). Finally `openssl speed -seconds 3 rsa2048` gives this machine's RSA-2048 verify
rate per core, and podiam's rate is shown as a fraction of it times the cores used
(min(--threads, CPUs)): one verify per request is the floor of podiam's own cost. The load
generator shares the machine, so the fraction is a lower bound.

Targets (docs/performance.md): >= 50x moto, >= 1/4 of the machine's verify rate.

Run: python3 tests/bench/bench_webidentity.py [--seconds 5] [--rounds 3] [--connections 16]
     [--podiam build/emulator/podiam]. Not a test (not registered with CTest).
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ACCT_PODIAM = "000000000000"
ACCT_MOTO = "123456789012"
SUB = "system:serviceaccount:bench:app"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return True
        except Exception:
            time.sleep(0.1)
    return False


def post(url, body, ctype="application/json"):
    data = body if isinstance(body, bytes) else body.encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def boto3_client(service, endpoint, region="us-east-1"):
    import boto3
    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                 region_name=region).client(service, endpoint_url=endpoint)


def start_podiam(binary, threads):
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % port,
                             "--listen-tls", "off", "--listen-proxy", "off", "--state",
                             ":memory:", "--log-level", "warn",
                             "--threads", str(threads)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    m = re.search(r"endpoint=(\S+)", line)
    if not m:
        proc.kill()
        sys.exit("podiam did not start: %r" % line)
    return proc, m.group(1)


def setup_podiam(ep):
    iam = boto3_client("iam", ep)
    issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/BE0C4A7B5E9D2F1A3C6B8D0E2F4A6C8E"
    post(ep + "/_podiam/oidc/issuers", json.dumps({"url": issuer}))
    prov = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])
    hp = issuer[len("https://"):]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": prov["OpenIDConnectProviderArn"]},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {hp + ":sub": SUB, hp + ":aud": "sts.amazonaws.com"}}}]}
    iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(trust))
    tok = json.loads(post(ep + "/_podiam/oidc/token", json.dumps(
        {"issuer": issuer, "ttl": 86400,
         "claims": {"sub": SUB, "aud": ["sts.amazonaws.com"]}})))["token"]
    return tok, "arn:aws:iam::%s:role/bench" % ACCT_PODIAM


def start_moto():
    exe = shutil.which("moto_server")
    if not exe:
        return None, None
    port = free_port()
    proc = subprocess.Popen([exe, "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ep = "http://127.0.0.1:%d" % port
    if not wait_http(ep + "/moto-api/"):
        proc.kill()
        return None, None
    return proc, ep


def setup_moto(ep, token):
    iam = boto3_client("iam", ep)
    iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "Federated": "arn:aws:iam::%s:oidc-provider/x" % ACCT_MOTO},
            "Action": "sts:AssumeRoleWithWebIdentity"}]}))
    return "arn:aws:iam::%s:role/bench" % ACCT_MOTO


def form_body(role_arn, token):
    return urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity",
                                   "Version": "2011-06-15", "RoleArn": role_arn,
                                   "RoleSessionName": "bench", "WebIdentityToken": token})


def run_wrk(ep, body, seconds, conns, threads):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\n')
        f.write('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
        f.write("wrk.body = %s\n" % json.dumps(body))
        script = f.name
    try:
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(conns), "-d",
                              "%ds" % seconds, "-s", script, ep + "/"],
                             capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:.*", out)
    if not m:
        sys.exit("wrk gave no rate:\n" + out)
    if bad:
        sys.exit("%s answered %s non-2xx responses:\n%s" % (ep, bad.group(1), out))
    return float(m.group(1)), errs.group(0) if errs else ""


def run_threads(ep, body, seconds, conns):
    """Fallback load generator: keep-alive connections, one thread each."""
    import http.client
    stop = time.time() + seconds
    counts = [0] * conns
    failures = []
    host, port = ep[len("http://"):].split(":")

    def worker(i):
        c = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.time() < stop:
            c.request("POST", "/", body=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                failures.append(r.status)
                return
            counts[i] += 1

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failures:
        sys.exit("%s answered %s" % (ep, failures[:3]))
    return sum(counts) / (time.time() - t0), ""


def rsa_verify_rate():
    out = subprocess.run(["openssl", "speed", "-seconds", "3", "rsa2048"], capture_output=True,
                         text=True, timeout=120).stdout
    m = re.search(r"rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out)
    return float(m.group(2)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--podiam", default=os.path.join(ROOT, "build", "emulator", "podiam"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                    help="podiam worker threads (default: CPUs)")
    args = ap.parse_args()
    use_wrk = shutil.which("wrk") is not None
    wrk_threads = 2

    pproc, pep = start_podiam(args.podiam, args.threads)
    mproc, mep = start_moto()
    try:
        token, prole = setup_podiam(pep)
        pbody = form_body(prole, token)
        # one call each, to see both answer 200 before measuring
        post(pep + "/", pbody, "application/x-www-form-urlencoded")
        mbody = None
        if mep:
            mbody = form_body(setup_moto(mep, token), token)
            post(mep + "/", mbody, "application/x-www-form-urlencoded")
        else:
            print("moto_server not found: podiam measured alone")
        rates = {"podiam": [], "moto": []}
        for rnd in range(args.rounds):
            for name, ep, body in (("podiam", pep, pbody), ("moto", mep, mbody)):
                if not ep:
                    continue
                if use_wrk:
                    rate, note = run_wrk(ep, body, args.seconds, args.connections, wrk_threads)
                else:
                    rate, note = run_threads(ep, body, args.seconds, args.connections)
                rates[name].append(rate)
                print("round %d %-6s %10.1f req/s %s" % (rnd + 1, name, rate, note))
                sys.stdout.flush()
    finally:
        pproc.terminate()
        if mproc:
            mproc.terminate()
    pm = statistics.median(rates["podiam"])
    print()
    print("load generator: %s, %d connections, %ds x %d rounds, alternating" % (
        "wrk -t%d" % wrk_threads if use_wrk else "python threads", args.connections,
        args.seconds, args.rounds))
    print("podiam median: %.1f req/s (worker threads %d, CPUs %d)" % (
        pm, args.threads, os.cpu_count() or 0))
    if rates["moto"]:
        mm = statistics.median(rates["moto"])
        print("moto   median: %.1f req/s" % mm)
        print("podiam / moto: %.1fx (target >= 50x)" % (pm / mm if mm else float("inf")))
    v = rsa_verify_rate()
    if v:
        cores = min(args.threads, os.cpu_count() or 1)
        print("openssl speed rsa2048: %.0f verify/s per core; x %d cores = %.0f" % (
            v, cores, v * cores))
        print("podiam / machine RSA-2048 verify rate: %.3f (target >= 0.25)" % (
            pm / (v * cores)))


if __name__ == "__main__":
    main()
