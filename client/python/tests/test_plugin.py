"""The Python helpers' own tests: a small pytest suite that uses the plugin's fixtures the way
a project's suite would, against a real podiam and boto3. tests/e2e/test_helpers_python.py
runs it (twice at once, each session with its own podiam)."""
import json
import time

import botocore.exceptions
import pytest

from podiam import Podiam, PodiamError, start_many

ACCOUNT = "000000000000"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
    "Action": "sts:AssumeRole"}]})
APP_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Data", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {"Sid": "Never", "Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"},
    {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject",
     "Resource": "arn:aws:s3:::data/keep/*"}]})


@pytest.fixture(scope="session")
def base(podiam_server):
    """What a module would set up once: a CI user (roles cannot be assumed with root keys),
    the app role, a bucket. It stays for every test: `podiam` restores to it."""
    iam = podiam_server.client("iam")
    iam.create_user(UserName="ci")
    iam.attach_user_policy(UserName="ci",
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    k = iam.create_access_key(UserName="ci")["AccessKey"]
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="app", PolicyName="app", PolicyDocument=APP_POLICY)
    podiam_server.client("s3").create_bucket(Bucket="data")
    return {"key": k["AccessKeyId"], "secret": k["SecretAccessKey"]}


def app_s3(p, base, role="app"):
    creds = p.assume_role("arn:aws:iam::%s:role/%s" % (ACCOUNT, role), **base)
    return p.client("s3", **creds)


def keys(s3):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket="data").get("Contents", []))


def test_a_writes(base, podiam):
    s3 = podiam.client("s3")
    s3.put_object(Bucket="data", Key="from-a", Body=b"a")
    podiam.client("iam").create_role(RoleName="made-by-a", AssumeRolePolicyDocument=TRUST)
    assert keys(s3) == ["from-a"]


def test_b_sees_nothing_of_a(base, podiam):
    """Runs after test_a_writes (file order): its object and role are gone, the session's
    setup is still there."""
    assert keys(podiam.client("s3")) == []
    roles = [r["RoleName"] for r in podiam.client("iam").list_roles()["Roles"]]
    assert "app" in roles and "made-by-a" not in roles


def test_expect_denied_names_the_statement(base, podiam):
    s3 = app_s3(podiam, base)
    s3.put_object(Bucket="data", Key="keep/x", Body=b"x")
    with podiam.decisions.expect_denied("s3:DeleteObject", decision="explicitDeny",
                                        policy="role/app/app", statement="NoDelete") as d:
        s3.delete_object(Bucket="data", Key="keep/x")
    assert d.entry["decision"] == "explicitDeny"
    assert d.error.response["Error"]["Code"] == "AccessDenied"
    # the wrong statement is a failure that says which statements applied
    with pytest.raises(AssertionError, match="NoDelete"):
        with podiam.decisions.expect_denied(statement="Data"):
            s3.delete_object(Bucket="data", Key="keep/x")
    # a call that succeeds is a failure too
    with pytest.raises(AssertionError, match="not denied"):
        with podiam.decisions.expect_denied("s3:GetObject"):
            s3.get_object(Bucket="data", Key="keep/x")


def test_assert_no_denials(base, podiam):
    s3 = app_s3(podiam, base)
    mark = podiam.mark()
    s3.put_object(Bucket="data", Key="ok", Body=b"x")
    podiam.decisions.assert_no_denials(since=mark)
    with pytest.raises(botocore.exceptions.ClientError):
        s3.delete_object(Bucket="data", Key="keep/y")
    with pytest.raises(AssertionError, match=r"(?s)1 unexpected denial.*s3:DeleteObject"):
        podiam.decisions.assert_no_denials(since=mark)
    podiam.decisions.assert_no_denials(since=mark, allow=[{"action": "s3:DeleteObject"}])
    # the test's own mark, taken by the fixture
    assert podiam.test_mark.startswith("d-")
    assert int(podiam.test_mark[2:]) <= int(mark[2:])


def test_fresh_account_is_isolated(base, podiam_account, podiam):
    iam = podiam_account.client("iam")
    iam.create_role(RoleName="only-here", AssumeRolePolicyDocument=TRUST)
    mine = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    theirs = [r["RoleName"] for r in podiam.client("iam").list_roles()["Roles"]]
    assert "only-here" in mine and "app" not in mine
    assert "only-here" not in theirs
    who = podiam_account.client("sts").get_caller_identity()
    assert who["Account"] == podiam_account.id


def test_account_delete_revokes_its_keys(podiam_server):
    a = podiam_server.create_account()
    a.client("sts").get_caller_identity()
    a.delete()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        a.client("sts").get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_bad_snapshot_input(podiam):
    for name in ("../x", "a/b", ".hidden", "", "x" * 65):
        with pytest.raises(PodiamError) as e:
            podiam.snapshot(name)
        assert e.value.status in (400, 404, 405), (name, e.value)
    with pytest.raises(PodiamError) as e:
        podiam.restore("never-taken")
    assert e.value.status == 404 and e.value.code == "NoSuchSnapshot"


def test_least_privilege_round_trip(base, podiam):
    """The policy generated from a run, attached to a fresh role, lets the same run pass
    and denies a call outside it."""
    def run(s3):
        s3.put_object(Bucket="data", Key="in/1", Body=b"1")
        s3.get_object(Bucket="data", Key="in/1")
        s3.list_objects_v2(Bucket="data", Prefix="in/")

    mark = podiam.mark()
    run(app_s3(podiam, base))
    arn = "arn:aws:iam::%s:role/app" % ACCOUNT
    report = podiam.report(since=mark, principal=arn)
    (me,) = [p for p in report["principals"] if p["principal"] == arn]
    assert report["complete"] is True
    # statements never used: the Allow the code did not need, the Deny it never hit
    assert sorted(u["sid"] for u in me["diff"]["unused"]) == ["Never", "NoDelete"]
    policy = me["least_privilege"]
    assert policy == podiam.least_privilege_policy(arn, since=mark)
    actions = sorted(a for s in policy["Statement"] for a in (
        s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))
    assert actions == ["s3:GetObject", "s3:ListBucket", "s3:PutObject"], policy

    iam = podiam.client("iam")
    iam.create_role(RoleName="app-narrow", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="app-narrow", PolicyName="generated",
                        PolicyDocument=json.dumps(policy))
    narrow = app_s3(podiam, base, "app-narrow")
    mark2 = podiam.mark()
    run(narrow)
    podiam.decisions.assert_no_denials(since=mark2)
    with podiam.decisions.expect_denied("s3:PutObject", decision="implicitDeny"):
        narrow.put_object(Bucket="data", Key="elsewhere", Body=b"x")


def test_evicted_mark_is_an_error():
    p = Podiam.start(decision_log_size=100)
    try:
        mark = p.mark()
        s3 = p.client("s3")
        for _ in range(110):
            s3.list_buckets()
        with pytest.raises(PodiamError) as e:
            p.decisions.since(mark)
        assert e.value.status == 410
        with pytest.raises(PodiamError) as e:
            p.report(since=mark)
        assert e.value.status == 410
        partial = p.report(since=mark, allow_partial=True)
        assert partial["complete"] is False
    finally:
        p.stop()


def test_start_many_are_independent():
    t0 = time.monotonic()
    ps = start_many(3)
    try:
        took = time.monotonic() - t0
        assert len({p.endpoint for p in ps}) == 3
        assert len({p.ready["pid"] for p in ps}) == 3
        ps[0].client("s3").create_bucket(Bucket="only-first")
        assert [b["Name"] for b in ps[1].client("s3").list_buckets()["Buckets"]] == []
        ps[2].snapshot("s")
        ps[2].client("s3").create_bucket(Bucket="gone")
        ps[2].restore("s")
        assert ps[2].client("s3").list_buckets()["Buckets"] == []
        assert took < 20, took
    finally:
        for p in ps:
            p.stop()
