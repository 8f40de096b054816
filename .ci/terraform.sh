#!/usr/bin/env bash
# Offline checks of deploy/terraform: tflint with its bundled Terraform
# ruleset over every module, and the Go policy tests (every .tf/.tfvars
# parses with HCL; the policies of deploy/terraform/README.md hold, each
# proven able to fail on an edited copy). Fails when no test ran.
#
# tflint is built from source with `go install` through the Go module
# proxy, pinned; a first build takes several minutes on two cores and is
# reused afterwards. The AWS ruleset (tflint-ruleset-aws) is a plugin that
# `tflint --init` downloads from GitHub: it cannot be used offline, so only
# the bundled Terraform ruleset runs here. terraform init/validate/plan need
# the registry and AWS: they are the operator's steps (README).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/gotest.sh

TFLINT_VERSION=v0.61.0
gobin="$(go env GOPATH)/bin"
tflint="$gobin/tflint"

echo "== [${SECONDS}s] tflint $TFLINT_VERSION"
have=$("$tflint" --version 2>/dev/null || true)
if ! grep -qx "TFLint version ${TFLINT_VERSION#v}" <<<"$have"; then
  echo "building tflint $TFLINT_VERSION with go install (Go module proxy)"
  if ! GOBIN="$gobin" go install "github.com/terraform-linters/tflint@$TFLINT_VERSION"; then
    echo "tflint $TFLINT_VERSION could not be installed with go install: failing" >&2
    exit 1
  fi
fi
"$tflint" --version

cd deploy/terraform
# --config with an absolute path: with --recursive, tflint otherwise looks
# for .tflint.hcl in each module directory and falls back to its default
# preset.
"$tflint" --recursive --config "$PWD/.tflint.hcl" --no-color

if command -v terraform >/dev/null; then
  echo "== [${SECONDS}s] terraform fmt -check"
  terraform fmt -check -recursive -diff .
else
  echo "== terraform is not installed: terraform fmt -check skipped (tflint and the HCL tests still run)"
fi

echo "== [${SECONDS}s] gofmt, go vet, go test (deploy/terraform)"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
go_test "terraform policies" .
