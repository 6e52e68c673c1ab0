"""s3-echoer, the seed walkthrough's app: run it "as the pod" (podiamctl run ... -- python3
s3_echoer.py) and it uses whatever credentials the SDK's default chain finds, which there are
the web identity ones (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE).

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


def clients(out):
    """The SDK's own web-identity provider finds podiam through AWS_ENDPOINT_URL, which boto3
    reads from 1.28 on. An older boto3 (Debian 12 ships 1.26) would ask the real STS, so there
    the app makes the same AssumeRoleWithWebIdentity call itself, as apps did before."""
    version = tuple(int(x) for x in boto3.__version__.split(".")[:2])
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if version >= (1, 28) or not endpoint:
        return boto3.client("sts"), boto3.client("s3")
    out["sdk"] += " (web identity exchanged by the app: this boto3 ignores AWS_ENDPOINT_URL)"
    with open(os.environ["AWS_WEB_IDENTITY_TOKEN_FILE"]) as f:
        token = f.read().strip()
    c = boto3.client("sts", endpoint_url=endpoint).assume_role_with_web_identity(
        RoleArn=os.environ["AWS_ROLE_ARN"], RoleSessionName="s3-echoer",
        WebIdentityToken=token)["Credentials"]
    session = boto3.session.Session(aws_access_key_id=c["AccessKeyId"],
                                    aws_secret_access_key=c["SecretAccessKey"],
                                    aws_session_token=c["SessionToken"])
    return (session.client("sts", endpoint_url=endpoint),
            session.client("s3", endpoint_url=endpoint))


def main():
    out = {"sdk": "boto3 " + boto3.__version__}
    sts, s3 = clients(out)
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
