#!/usr/bin/env python3
"""Writes the hand-built protobuf bodies (handmade_*.bin) that kubectl cannot be made to send:
every ObjectMeta field, ServiceAccount references, immutable ConfigMaps, selector attributes.
Field numbers from kubernetes/api and apimachinery generated.proto. Run in this folder."""


def varint(v):
    v &= (1 << 64) - 1
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def f_len(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def f_var(num, v):
    return varint(num << 3) + varint(v)


def entry(num, k, v):
    return f_len(num, f_len(1, k) + f_len(2, v))


def envelope(api_version, kind, raw):
    return b"k8s\x00" + f_len(1, f_len(1, api_version) + f_len(2, kind)) + f_len(2, raw) + \
        f_len(3, b"") + f_len(4, b"")


def time(secs, nanos=0):
    return f_var(1, secs) + (f_var(2, nanos) if nanos else b"")


META = (f_len(1, "web") + f_len(2, "web-") + f_len(3, "team") + f_len(4, "") +
        f_len(5, "6f1c1b9e-1111-4222-8333-444455556666") + f_len(6, "42") + f_var(7, 3) +
        f_len(8, time(1764216000, 5)) + f_var(10, (-1) & ((1 << 64) - 1)) +
        entry(11, "app", "web") + entry(11, "tier", "") +
        entry(12, "eks.amazonaws.com/role-arn", "arn:aws:iam::111122223333:role/r") +
        f_len(13, f_len(1, "Deployment") + f_len(3, "web") + f_len(4, "u-1") + f_len(5, "apps/v1") +
              f_var(6, 1) + f_var(7, 0)) +
        f_len(14, "kubernetes.io/pv-protection") + f_len(14, "example.com/x") +
        f_len(99, "unknown field, skipped") + f_var(98, 7))

SA = (f_len(1, META) + f_len(2, f_len(1, "Secret") + f_len(3, "tok") + f_len(2, "")) +
      f_len(3, f_len(1, "regcred")) + f_len(3, f_len(1, "")) + f_var(4, 0))

CM = (f_len(1, f_len(1, "cfg") + f_len(8, b"")) + entry(2, "k", "") + entry(3, "empty", b"") +
      f_var(4, 1))

SSAR = (f_len(1, b"") +
        f_len(2, f_len(1, f_len(1, "") + f_len(2, "list") + f_len(3, "apps") + f_len(4, "*") +
                       f_len(5, "deployments") + f_len(7, "") +
                       f_len(8, f_len(1, "metadata.name=x")) +
                       f_len(9, f_len(2, f_len(1, "app") + f_len(2, "In") + f_len(3, "a") +
                                      f_len(3, "b"))))) +
        f_len(3, f_var(1, 1) + f_len(2, "cheat")))

NS = f_len(1, f_len(1, "fin")) + f_len(2, f_len(1, "kubernetes")) + f_len(3, f_len(1, "Active"))

for name, body in [
        ("handmade_sa", envelope("v1", "ServiceAccount", SA)),
        ("handmade_configmap", envelope("v1", "ConfigMap", CM)),
        ("handmade_ssar", envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", SSAR)),
        ("handmade_namespace", envelope("v1", "Namespace", NS))]:
    with open(name + ".bin", "wb") as f:
        f.write(body)
