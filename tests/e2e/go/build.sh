#!/bin/sh
# Build the Go acceptance app (tests/e2e/go/s3echoer) offline with Debian's Go toolchain
# (golang-go) and Debian's aws-sdk-go v1 (golang-github-aws-aws-sdk-go-dev, whose sources
# are under /usr/share/gocode/src): GOPATH mode, no modules, no network (GOPROXY=off).
#   usage: build.sh OUTDIR       -> OUTDIR/s3echoer (OUTDIR/gocache keeps the build cache)
# Exits 77 with a line naming what is missing when the toolchain or the SDK is absent, so
# the caller can report a skip rather than a failure; any other failure is a build error.
set -eu
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
gocode=${PODIAM_GOCODE:-/usr/share/gocode}
if ! command -v go >/dev/null 2>&1; then
    echo "missing: the go command (Debian package golang-go; .ci/setup installs it)"
    exit 77
fi
if [ ! -d "$gocode/src/github.com/aws/aws-sdk-go/aws/session" ]; then
    echo "missing: aws-sdk-go v1 in $gocode/src (Debian package golang-github-aws-aws-sdk-go-dev; .ci/setup installs it)"
    exit 77
fi
mkdir -p "$out/gopath" "$out/gocache"
cd "$here/s3echoer"
# GOPATH's first entry is ours, so nothing is ever written under /usr/share/gocode.
env GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 \
    GOPATH="$out/gopath:$gocode" GOCACHE="$out/gocache" \
    go build -o "$out/s3echoer" .
go version
echo "built $out/s3echoer"
