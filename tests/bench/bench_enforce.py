#!/usr/bin/env python3
"""bench_enforce.py - what IAM policy enforcement costs a request, end to end.

Starts podiam twice per round, once with --iam-mode enforce and once with --iam-mode off
(alternating, so drift in the machine's load hits both alike), and measures requests per
second of the same signed IAM calls made by the same IAM user:

  * the user has 5 customer managed policies attached, 40 statements in all, most with
    conditions (aws:SourceIp, aws:PrincipalTag, aws:CurrentTime, aws:RequestedRegion,
    aws:ResourceTag, ...); the statement that allows the call is the last one of the last
    policy, so an allowed request looks at every statement;
  * GetRole (one role, with tags: a resource lookup) and ListRoles (a list over 20 roles).

Each request is signed once with SigV4 (botocore) and replayed: podiam accepts a signed
request again within its 15-minute window, as AWS does, so the client spends no time signing
and the numbers are podiam's. The load comes from wrk when it is installed (a Lua script sets
the method, headers and body), otherwise from Python threads with keep-alive http.client
connections (slower; say so when comparing).

Prints, per operation and mode, every round's requests/s, the median, and enforce/off.
Not a test: run it by hand from the repository root after a release build, e.g.

    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && make -C build -j
    python3 tests/bench/bench_enforce.py --rounds 5 --duration 10

Results and the machine they came from go in docs/performance.md.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from podiam_harness import Podiam  # noqa: E402

ACCT = "000000000000"


def stmt(sid, effect, action, resource="*", cond=None):
    s = {"Sid": sid, "Effect": effect, "Action": action, "Resource": resource}
    if cond:
        s["Condition"] = cond
    return s


def policies():
    """Five policies, 40 statements; the last statement of the last policy allows the
    benchmarked calls, every earlier one is looked at and does not apply."""
    tls = {"Bool": {"aws:SecureTransport": "true"}}
    region = {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}
    team = {"StringEquals": {"aws:PrincipalTag/team": "core"}}
    net = {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "10.0.0.0/8"]}}
    soon = {"DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}}
    docs = []
    # 1: S3
    docs.append([
        stmt("S3List", "Allow", ["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
             "arn:aws:s3:::*", tls),
        stmt("S3Home", "Allow", "s3:ListBucket", "arn:aws:s3:::corp",
             {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}),
        stmt("S3HomeObj", "Allow", ["s3:GetObject", "s3:PutObject"],
             "arn:aws:s3:::corp/home/${aws:username}/*"),
        stmt("S3Team", "Allow", "s3:GetObject", "arn:aws:s3:::corp/teams/*",
             {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
        stmt("S3NoLogs", "Deny", "s3:Delete*", "arn:aws:s3:::*log*"),
        stmt("S3Public", "Allow", "s3:Get*", "arn:aws:s3:::public-*/*", region),
        stmt("S3Tags", "Allow", "s3:PutObjectTagging", "*",
             {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}),
        stmt("S3Tls", "Deny", "s3:*", "*", {"Bool": {"aws:SecureTransport": "false"},
                                             "StringEquals": {"s3:x-amz-acl": "public-read"}}),
    ])
    # 2: EC2
    docs.append([
        stmt("Ec2Describe", "Allow", "ec2:Describe*", "*", region),
        stmt("Ec2Start", "Allow", ["ec2:StartInstances", "ec2:StopInstances"],
             "arn:aws:ec2:*:*:instance/*",
             {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
        stmt("Ec2Run", "Allow", "ec2:RunInstances", "*",
             {"StringEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"},
              "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "Name"]}}),
        stmt("Ec2Types", "Deny", "ec2:RunInstances", "arn:aws:ec2:*:*:instance/*",
             {"StringNotLike": {"ec2:InstanceType": ["t3.*", "m5.large"]}}),
        stmt("Ec2Vpc", "Allow", "ec2:*", "arn:aws:ec2:*:*:subnet/*",
             {"StringEquals": {"ec2:Vpc": "arn:aws:ec2:us-east-1:%s:vpc/vpc-1" % ACCT}}),
        stmt("Ec2Net", "Allow", "ec2:CreateTags", "*", net),
        stmt("Ec2Time", "Allow", "ec2:Get*", "*", soon),
        stmt("Ec2Mfa", "Deny", "ec2:TerminateInstances", "*",
             {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
    ])
    # 3: KMS / Secrets / SSM
    docs.append([
        stmt("KmsUse", "Allow", ["kms:Decrypt", "kms:Encrypt"],
             "arn:aws:kms:*:%s:key/*" % ACCT,
             {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}),
        stmt("KmsAlias", "Allow", "kms:ListAliases", "*", region),
        stmt("Secrets", "Allow", "secretsmanager:GetSecretValue",
             "arn:aws:secretsmanager:*:%s:secret:app/${aws:PrincipalTag/team}/*" % ACCT),
        stmt("SecretsDeny", "Deny", "secretsmanager:DeleteSecret", "*"),
        stmt("Ssm", "Allow", "ssm:GetParameter*",
             "arn:aws:ssm:*:%s:parameter/${aws:PrincipalTag/team}/*" % ACCT, tls),
        stmt("SsmNet", "Allow", "ssm:DescribeParameters", "*", net),
        stmt("Logs", "Allow", ["logs:PutLogEvents", "logs:CreateLogStream"],
             "arn:aws:logs:*:%s:log-group:/app/*" % ACCT),
        stmt("Cw", "Allow", "cloudwatch:PutMetricData", "*",
             {"StringEquals": {"cloudwatch:namespace": "App"}}),
    ])
    # 4: STS, EKS, SQS
    docs.append([
        stmt("Assume", "Allow", "sts:AssumeRole", "arn:aws:iam::%s:role/app-*" % ACCT, team),
        stmt("TagSess", "Allow", "sts:TagSession", "*",
             {"StringEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"}}),
        stmt("Eks", "Allow", "eks:Describe*", "arn:aws:eks:*:%s:cluster/*" % ACCT, region),
        stmt("EksDeny", "Deny", "eks:DeleteCluster", "*", soon),
        stmt("Sqs", "Allow", ["sqs:SendMessage", "sqs:ReceiveMessage"],
             "arn:aws:sqs:*:%s:${aws:PrincipalTag/team}-*" % ACCT),
        stmt("Sns", "Allow", "sns:Publish", "*", net),
        stmt("Ddb", "Allow", ["dynamodb:GetItem", "dynamodb:Query"], "*",
             {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:userid}"]}}),
        stmt("Lambda", "Allow", "lambda:InvokeFunction", "*", tls),
    ])
    # 5: IAM; the last statement allows the benchmarked calls
    docs.append([
        stmt("IamSelf", "Allow", ["iam:GetUser", "iam:ListAccessKeys"],
             "arn:aws:iam::%s:user/${aws:username}" % ACCT),
        stmt("IamKeys", "Allow", ["iam:CreateAccessKey", "iam:DeleteAccessKey"],
             "arn:aws:iam::%s:user/${aws:username}" % ACCT, tls),
        stmt("IamNoAdmin", "Deny", ["iam:AttachRolePolicy", "iam:AttachUserPolicy"], "*",
             {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}),
        stmt("IamBoundary", "Allow", "iam:CreateRole", "*",
             {"StringEquals": {"iam:PermissionsBoundary":
                               "arn:aws:iam::%s:policy/boundary" % ACCT}}),
        stmt("IamPass", "Allow", "iam:PassRole", "arn:aws:iam::%s:role/app-*" % ACCT,
             {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
        stmt("IamTags", "Allow", "iam:TagRole", "*",
             {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
        stmt("IamRegion", "Deny", "iam:Delete*", "*",
             {"StringNotEquals": {"aws:PrincipalTag/team": ["core", "ops"]}}),
        stmt("IamRead", "Allow", ["iam:GetRole", "iam:ListRoles"], "*",
             {"StringEquals": {"aws:PrincipalTag/team": "core"},
              "IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]},
              "DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}}),
    ])
    return [json.dumps({"Version": "2012-10-17", "Statement": d}) for d in docs]


def setup(p):
    """The user, its policies and the roles; returns (key id, secret)."""
    iam = p.boto3("iam")
    iam.create_user(UserName="bench", Tags=[{"Key": "team", "Value": "core"}])
    n = 0
    for i, d in enumerate(policies()):
        n += len(json.loads(d)["Statement"])
        arn = iam.create_policy(PolicyName="bench-%d" % i, PolicyDocument=d)["Policy"]["Arn"]
        iam.attach_user_policy(UserName="bench", PolicyArn=arn)
    assert n == 40, n
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "sts:AssumeRole"}]})
    for i in range(20):
        iam.create_role(RoleName="app-%02d" % i, AssumeRolePolicyDocument=trust,
                        Tags=[{"Key": "team", "Value": "core"}])
    k = iam.create_access_key(UserName="bench")["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def presign(endpoint, key, secret, params):
    """Headers and body of one SigV4-signed IAM query request."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    body = "&".join("%s=%s" % kv for kv in params) + "&Version=2010-05-08"
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=endpoint + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), "iam",
                            "us-east-1").add_auth(req)
    headers = {k: v for k, v in req.headers.items()}
    return headers, body


def check_once(endpoint, headers, body):
    host = endpoint.split("//", 1)[1]
    c = http.client.HTTPConnection(host, timeout=10)
    c.request("POST", "/", body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError("the signed request fails (%d): %s" % (r.status, data[:300]))


def run_wrk(endpoint, headers, body, duration, connections, threads):
    lua = ["wrk.method = \"POST\"", "wrk.body = %s" % json.dumps(body)]
    for k, v in headers.items():
        if k.lower() in ("host", "content-length"):
            continue
        lua.append("wrk.headers[%s] = %s" % (json.dumps(k), json.dumps(v)))
    lua.append("""
done = function(summary, latency, requests)
  io.write(string.format("non200 %d\\n", summary.errors.status))
end""")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("\n".join(lua))
        script = f.name
    try:
        out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % connections,
                              "-d%ds" % duration, "-s", script, endpoint + "/"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"non200 (\d+)", out)
    if bad and int(bad.group(1)):
        raise RuntimeError("wrk saw %s non-200 answers:\n%s" % (bad.group(1), out))
    return float(m.group(1))


def run_python(endpoint, headers, body, duration, connections):
    host = endpoint.split("//", 1)[1]
    counts = [0] * connections
    stop = time.monotonic() + duration
    errors = []

    def worker(i):
        c = http.client.HTTPConnection(host, timeout=10)
        while time.monotonic() < stop:
            c.request("POST", "/", body=body, headers=headers)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
                return
            counts[i] += 1
        c.close()

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError("non-200 answers: %s" % errors[:5])
    return sum(counts) / (time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--podiam-threads", type=int, default=8)
    ap.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--json", help="also write the results to this file")
    a = ap.parse_args()
    client = a.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    ops = {"GetRole": [("Action", "GetRole"), ("RoleName", "app-07")],
           "ListRoles": [("Action", "ListRoles")]}
    results = {op: {"enforce": [], "off": []} for op in ops}
    for rnd in range(a.rounds):
        order = ["enforce", "off"] if rnd % 2 == 0 else ["off", "enforce"]
        for mode in order:
            p = Podiam.start("--iam-mode", mode, "--log-level", "warn", "--threads",
                             str(a.podiam_threads))
            try:
                key, secret = setup(p)
                for op, params in ops.items():
                    headers, body = presign(p.endpoint, key, secret, params)
                    check_once(p.endpoint, headers, body)
                    if client == "wrk":
                        rps = run_wrk(p.endpoint, headers, body, a.duration, a.connections,
                                      a.threads)
                    else:
                        rps = run_python(p.endpoint, headers, body, a.duration, a.connections)
                    results[op][mode].append(rps)
                    print("round %d %-7s %-9s %10.0f req/s" % (rnd + 1, mode, op, rps),
                          flush=True)
            finally:
                p.stop()
    print("\nclient: %s, %d connections, %ds per run, %d rounds, podiam --threads %d"
          % (client, a.connections, a.duration, a.rounds, a.podiam_threads))
    summary = {}
    for op in ops:
        e = statistics.median(results[op]["enforce"])
        o = statistics.median(results[op]["off"])
        summary[op] = {"enforce": e, "off": o, "ratio": e / o, "runs": results[op]}
        print("%-9s enforce %8.0f req/s   off %8.0f req/s   enforce/off %.2f"
              % (op, e, o, e / o))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"client": client, "connections": a.connections,
                       "duration": a.duration, "results": summary}, f, indent=2)


if __name__ == "__main__":
    main()
