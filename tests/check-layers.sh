#!/bin/sh
# The layer rule of STYLE.md §2, checked on #include lines: each emulator folder may only
# include the folders (and third-party headers) its row allows. Prints every violation and
# exits 1 if there is any. Run by CTest (test "lint.layers").
set -u
cd "$(dirname "$0")/../emulator" || exit 2
status=0

# folder | forbidden include patterns (extended regex, matched against the included path)
rules='
core|^(auth|crypto|proto|services|store|server)/|^(req|env|dispatch|app|embedded)\.h$|microhttpd\.h|sqlite3\.h|jansson\.h|^jwt\.h$|openssl/|expat\.h
server|^(proto|auth|services|store|crypto)/|sqlite3\.h|^jwt\.h$
proto|^(store|auth|server|crypto)/|^services/[a-z_]+\.h$|microhttpd\.h|sqlite3\.h|^jwt\.h$
auth|^(services|proto|server)/|microhttpd\.h|^jwt\.h$
crypto|^(auth|services|proto|server|store)/|microhttpd\.h|sqlite3\.h
services|^(proto|server)/|microhttpd\.h|sqlite3\.h|^jwt\.h$|expat\.h
store|^(auth|crypto|proto|services|server)/|microhttpd\.h|^jwt\.h$
'
echo "$rules" | while IFS='|' read -r dir forbidden; do
    [ -n "$dir" ] || continue
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$f" |
        sed -E 's/^([0-9]+):[^<"]*[<"]([^>"]+)[>"].*/\1 \2/' |
        while read -r line inc; do
            # proto/ may use the service table types (service.h) but no service code.
            [ "$dir" = proto ] && [ "$inc" = services/service.h ] && continue
            if echo "$inc" | grep -qE "$forbidden"; then
                echo "layer violation: emulator/$f:$line includes $inc"
                echo x >> "${TMPDIR:-/tmp}/podiam-layers.$$"
            fi
        done
    done
done
# jwt.h may appear only in crypto/jwt.c; sqlite3.h only in store/.
for f in $(grep -rlE '#[[:space:]]*include[[:space:]]*<jwt\.h>' . ); do
    [ "$f" = ./crypto/jwt.c ] || { echo "layer violation: emulator/${f#./} includes jwt.h (only crypto/jwt.c may)"; status=1; }
done
for f in $(grep -rlE '#[[:space:]]*include[[:space:]]*<microhttpd\.h>' . ); do
    [ "$f" = ./server/server.c ] || { echo "layer violation: emulator/${f#./} includes microhttpd.h (only server/server.c may)"; status=1; }
done
# GnuTLS (libmicrohttpd's TLS library) stays in server/server.c: crypto/ is OpenSSL's.
for f in $(grep -rlE '#[[:space:]]*include[[:space:]]*<gnutls/' . ); do
    [ "$f" = ./server/server.c ] || { echo "layer violation: emulator/${f#./} includes GnuTLS (only server/server.c may)"; status=1; }
done
if [ -e "${TMPDIR:-/tmp}/podiam-layers.$$" ]; then rm -f "${TMPDIR:-/tmp}/podiam-layers.$$"; status=1; fi
[ $status = 0 ] && echo "layers: ok"
exit $status
