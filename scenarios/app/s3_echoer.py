"""s3-echoer, the seed walkthrough's app: run it "as the pod" (podiamctl run ... -- python3
s3_echoer.py) and it uses whatever credentials the SDK's default chain finds, which there are
the web identity ones (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE). It has no endpoint code:
boto3 1.28 and later reach podiam through AWS_ENDPOINT_URL, older ones (Debian 12's 1.26)
dial the AWS hostnames and reach podiam through its proxy (HTTPS_PROXY and AWS_CA_BUNDLE,
which podiamctl run sets too).

It writes an object to its bucket, reads it back, lists the bucket, then tries the bucket of
another team, which its role must not reach. Prints one JSON document:
{"identity": ARN, "put": "ok", "get": TEXT, "list": [KEYS], "other_team": "AccessDenied", ...}
Exit status 0 when its own bucket worked and the other one was refused, 1 otherwise.
"""
import json
import os
import sys
import time

import boto3
import botocore.exceptions

BUCKET = os.environ.get("S3_ECHOER_BUCKET", "s3-echoer-demo")
OTHER = os.environ.get("S3_ECHOER_OTHER_BUCKET", "other-team")


def code_of(e):
    return e.response.get("Error", {}).get("Code", "?")


def main():
    out = {"sdk": "boto3 " + boto3.__version__}
    sts, s3 = boto3.client("sts"), boto3.client("s3")
    out["identity"] = sts.get_caller_identity()["Arn"]
    key = "echo/%d.txt" % int(time.time() * 1000)
    text = "hello from s3-echoer (%s)" % out["sdk"]
    ok = True
    try:
        s3.put_object(Bucket=BUCKET, Key=key, Body=text.encode())
        out["put"] = "ok"
        out["get"] = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="echo/")
        out["list"] = [o["Key"] for o in listed.get("Contents", [])]
        ok = out["get"] == text and key in out["list"]
    except botocore.exceptions.ClientError as e:
        out["put"] = code_of(e)
        ok = False
    try:
        s3.put_object(Bucket=OTHER, Key=key, Body=b"should not be written")
        out["other_team"] = "written"
        ok = False
    except botocore.exceptions.ClientError as e:
        out["other_team"] = code_of(e)
        out["other_team_message"] = e.response.get("Error", {}).get("Message", "")
        ok = ok and out["other_team"] == "AccessDenied"
    print(json.dumps(out, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
