"""Assertions on podiam's decision log: why a call was denied, and that nothing else was.

    with p.decisions.expect_denied("s3:DeleteObject", decision="explicitDeny",
                                   policy="arn:aws:iam::000000000000:policy/no-delete"):
        s3.delete_object(Bucket="data", Key="a")

    mark = p.mark()
    ... the code under test ...
    p.decisions.assert_no_denials(since=mark)       # no unexpected AccessDenied

Every response podiam sends carries `x-podiam-decision-id`; the decision it names says which
policy and statement decided. A listing over a mark the log has dropped raises (podiam
answers 410): never a silent partial answer.
"""
import contextlib
import urllib.parse


def _decision_id(exc):
    """x-podiam-decision-id of a botocore ClientError (or anything with .response)."""
    resp = getattr(exc, "response", None) or {}
    headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return headers.get("x-podiam-decision-id")


def _deny_statements(entry):
    """(policy id, statement index, sid) of every Deny statement that applied."""
    out = []
    for c in entry.get("checks", []):
        for m in c.get("matched", []):
            if m.get("effect") == "Deny":
                out.append((m.get("policy"), m.get("statement"), m.get("sid")))
    return out


def describe(entry):
    """One line for a decision: id, action, resource, decision, caller, message."""
    checks = entry.get("checks", [])
    failing = [c for c in checks if c.get("decision") != "allowed"] or checks
    c = failing[0] if failing else {}
    return "%s %s on %s: %s for %s%s" % (
        entry.get("id"), c.get("action", entry.get("operation")), c.get("resource", "-"),
        entry.get("decision"), entry.get("principal"),
        (" (" + entry["message"] + ")") if entry.get("message") else "")


class Decisions:
    """The decision log of one podiam (Podiam.decisions)."""

    def __init__(self, podiam):
        self.podiam = podiam

    def get(self, decision_id):
        return self.podiam.admin("GET", "decisions/" + decision_id)

    def since(self, mark):
        """Every decision after the mark, oldest first."""
        return self.podiam.admin("GET", "decisions?" + urllib.parse.urlencode(
            {"since": mark}))["decisions"]

    def denied(self, since):
        """The denials after the mark (audit-mode denials included: they were let through)."""
        return [e for e in self.since(since) if e.get("decision") != "allowed"]

    def check_denied(self, entry, action=None, decision=None, policy=None, statement=None):
        """Raise AssertionError unless entry is a denial as described: action (one of its
        checks), decision ("explicitDeny", "implicitDeny" or "denied" for either), policy (the
        id of the policy with the explicit deny: an ARN, or "role/NAME/POLICY" for inline),
        statement (its Sid or index)."""
        if entry.get("decision") == "allowed":
            raise AssertionError("%s was allowed" % describe(entry))
        if decision and decision != "denied" and entry.get("decision") != decision:
            raise AssertionError("expected %s, got %s" % (decision, describe(entry)))
        if action:
            actions = [c.get("action", "").lower() for c in entry.get("checks", [])]
            if action.lower() not in actions:
                raise AssertionError("expected a decision on %s, got %s" % (
                    action, describe(entry)))
        if policy or statement is not None:
            denies = _deny_statements(entry)
            ok = [d for d in denies if (not policy or d[0] == policy) and (
                statement is None or statement in (d[1], d[2]))]
            if not ok:
                raise AssertionError(
                    "expected an explicit deny by %s%s; the deny statements that applied: %s "
                    "(%s)" % (policy or "any policy",
                              "" if statement is None else " statement %r" % (statement,),
                              denies or "none", describe(entry)))
        return entry

    @contextlib.contextmanager
    def expect_denied(self, action=None, decision="denied", policy=None, statement=None):
        """The block must raise a client error whose decision is a denial as described
        (check_denied); the decision entry is the context value's `.entry` afterwards."""
        holder = _Holder()
        try:
            yield holder
        except Exception as e:  # noqa: BLE001 (re-raised unless it is the expected denial)
            did = _decision_id(e)
            if not did:
                raise
            holder.entry = self.check_denied(self.get(did), action, decision, policy,
                                             statement)
            holder.error = e
            return
        raise AssertionError("the call was not denied%s" % (
            " (%s)" % action if action else ""))

    def assert_no_denials(self, since, allow=()):
        """Raise AssertionError listing every denial after the mark that matches none of
        `allow` (dicts with any of action, principal, resource, decision)."""
        left = []
        for e in self.denied(since):
            if not any(_matches(e, a) for a in allow):
                left.append(e)
        if left:
            raise AssertionError("%d unexpected denial(s) since %s:\n  %s" % (
                len(left), since, "\n  ".join(describe(e) for e in left[:20])))


class _Holder:
    entry = None
    error = None


def _matches(entry, pattern):
    if pattern.get("principal") and entry.get("principal") != pattern["principal"]:
        return False
    if pattern.get("decision") and entry.get("decision") != pattern["decision"]:
        return False
    for c in entry.get("checks", []):
        if c.get("decision") == "allowed":
            continue
        if pattern.get("action") and c.get("action", "").lower() != pattern["action"].lower():
            continue
        if pattern.get("resource") and c.get("resource") != pattern["resource"]:
            continue
        return True
    return False
