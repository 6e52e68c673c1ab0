#!/usr/bin/env python3
"""Trim AWS service models (botocore service-2.json) to what podiam's codecs read.

Usage: trim.py BOTOCORE_DATA_DIR OUT_DIR
Drops documentation text, examples and deprecation notes; keeps metadata, operations
(http binding, input/output/errors, authtype) and shapes (types, members, traits).
The models are Apache-2.0 (see NOTICE in this folder); the output is data, not code.
"""
import gzip, json, os, sys

SERVICES = ["iam", "sts", "s3", "eks", "eks-auth", "organizations"]
DROP = {"documentation", "documentationUrl", "deprecatedMessage", "examples",
        "endpointdiscovery", "staticContextParams", "contextParam", "operationContextParams",
        "requestcompression", "httpChecksum_doc"}


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main():
    src, out = sys.argv[1], sys.argv[2]
    for svc in SERVICES:
        d = os.path.join(src, svc)
        version = sorted(os.listdir(d))[-1]
        path = os.path.join(d, version, "service-2.json")
        opener = open
        if not os.path.exists(path):
            path += ".gz"
            opener = gzip.open
        with opener(path, "rt") as f:
            model = json.load(f)
        model = strip(model)
        with open(os.path.join(out, svc + ".json"), "w") as f:
            json.dump(model, f, separators=(",", ":"))  # model order: AWS renders members in it
            f.write("\n")
        print(svc, version, os.path.getsize(os.path.join(out, svc + ".json")))


if __name__ == "__main__":
    main()
