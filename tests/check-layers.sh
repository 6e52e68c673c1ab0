#!/bin/sh
# The layer rule of STYLE.md §2, checked on #include lines: each folder of lib/, emulator/
# and client/ may only include the folders (and third-party headers) its row allows. Prints
# every violation and exits 1 if there is any. Run by CTest (test "lint.layers").
#
#   lib/      code both binaries use; never includes emulator/ or client/ headers
#   emulator/ the server: server -> dispatch -> proto -> auth -> services, k8s -> store
#   client/   podiamctl; uses lib/ only, never the server's folders
set -u
cd "$(dirname "$0")/.." || exit 2
out="${TMPDIR:-/tmp}/podiam-layers.$$"
: >"$out"

# Headers of emulator/'s top level (the request context, the pipeline, the app).
top='^(req|env|dispatch|app|embedded|authorize|stream)\.h$'
# Folders of emulator/ that nothing in lib/ or client/ may include.
srv='^(auth|proto|services|store|server|k8s)/'

# folder (relative to the repository) | forbidden include patterns (extended regex)
rules="
lib/core|^(crypto|sigv4|xml)/|$srv|$top|microhttpd\.h|sqlite3\.h|jansson\.h|^jwt\.h$|openssl/|expat\.h|gnutls/
lib/crypto|^(sigv4|xml)/|$srv|$top|microhttpd\.h|sqlite3\.h|gnutls/
lib/sigv4|^xml/|$srv|$top|microhttpd\.h|sqlite3\.h|^jwt\.h$|expat\.h|gnutls/
lib/xml|^(crypto|sigv4)/|$srv|$top|microhttpd\.h|sqlite3\.h|^jwt\.h$|openssl/|gnutls/
emulator/server|^(proto|auth|services|store|crypto|k8s|sigv4|xml)/|sqlite3\.h|^jwt\.h$
emulator/proto|^(store|auth|server|crypto|k8s)/|^services/.+\.h$|microhttpd\.h|sqlite3\.h|^jwt\.h$|gnutls/
emulator/auth|^(services|proto|server|k8s)/|microhttpd\.h|^jwt\.h$|gnutls/
emulator/services|^(proto|server)/|microhttpd\.h|sqlite3\.h|^jwt\.h$|expat\.h|gnutls/
emulator/services/iam|^(proto|server)/|microhttpd\.h|sqlite3\.h|^jwt\.h$|expat\.h|gnutls/
emulator/services/s3|^(proto|server)/|microhttpd\.h|sqlite3\.h|^jwt\.h$|expat\.h|gnutls/
emulator/services/organizations|^(proto|server)/|microhttpd\.h|sqlite3\.h|^jwt\.h$|expat\.h|gnutls/
emulator/k8s|^(proto|server)/|microhttpd\.h|sqlite3\.h|^jwt\.h$|expat\.h|gnutls/
emulator/store|^(auth|crypto|proto|services|server|k8s|sigv4|xml)/|microhttpd\.h|^jwt\.h$|gnutls/
client|$srv|$top|microhttpd\.h|sqlite3\.h|gnutls/
"
echo "$rules" | while IFS='|' read -r dir forbidden; do
    [ -n "$dir" ] || continue
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$f" |
        sed -E 's/^([0-9]+):[^<"]*[<"]([^>"]+)[>"].*/\1 \2/' |
        while read -r line inc; do
            # proto/ may use the service table types (service.h) but no service code.
            [ "$dir" = emulator/proto ] && [ "$inc" = services/service.h ] && continue
            if echo "$inc" | grep -qE "$forbidden"; then
                echo "layer violation: $f:$line includes $inc"
                echo x >>"$out"
            fi
        done
    done
done
status=0
[ -s "$out" ] && status=1
rm -f "$out"
# Every folder with sources must have a row above, so a new folder cannot escape the rule.
for d in $(find lib emulator client -name '*.[ch]' -exec dirname {} \; | sort -u); do
    case $d in emulator) continue ;; esac
    echo "$rules" | grep -q "^$d|" || { echo "layer check: no rule for folder $d"; status=1; }
done
# jwt.h may appear only in lib/crypto/jwt.c; sqlite3.h only in emulator/store/; microhttpd.h
# and GnuTLS only in emulator/server/; yaml.h only in emulator/k8s/awsauth.c.
for f in $(grep -rlE '#[[:space:]]*include[[:space:]]*<jwt\.h>' lib emulator client); do
    [ "$f" = lib/crypto/jwt.c ] || { echo "layer violation: $f includes jwt.h (only lib/crypto/jwt.c may)"; status=1; }
done
for f in $(grep -rlE '#[[:space:]]*include[[:space:]]*<microhttpd\.h>' lib emulator client); do
    case $f in emulator/server/*) ;; *) echo "layer violation: $f includes microhttpd.h (only emulator/server/ may)"; status=1 ;; esac
done
for f in $(grep -rlE '#[[:space:]]*include[[:space:]]*<sqlite3\.h>' lib emulator client); do
    case $f in emulator/store/*) ;; *) echo "layer violation: $f includes sqlite3.h (only emulator/store/ may)"; status=1 ;; esac
done
for f in $(grep -rlE '#[[:space:]]*include[[:space:]]*<gnutls/' lib emulator client); do
    [ "$f" = emulator/server/server.c ] || { echo "layer violation: $f includes GnuTLS (only emulator/server/server.c may)"; status=1; }
done
# curl/ (libcurl) in the server only in emulator/services/httpc.c, its one outbound client.
for f in $(grep -rlE '#[[:space:]]*include[[:space:]]*<curl/' lib emulator); do
    [ "$f" = emulator/services/httpc.c ] || { echo "layer violation: $f includes curl/ (only emulator/services/httpc.c may)"; status=1; }
done
# yaml.h (libyaml) only in emulator/k8s/awsauth.c, the aws-auth ConfigMap reader.
for f in $(grep -rlE '#[[:space:]]*include[[:space:]]*<yaml\.h>' lib emulator client); do
    [ "$f" = emulator/k8s/awsauth.c ] || { echo "layer violation: $f includes yaml.h (only emulator/k8s/awsauth.c may)"; status=1; }
done
[ $status = 0 ] && echo "layers: ok"
exit $status
