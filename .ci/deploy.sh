#!/usr/bin/env bash
# Validates what deploy/ ships, offline (the Go module proxy aside): the
# deploy module's tests (kustomize render of every overlay, strict decode
# into the upstream types, CRD schemas and CEL rules, policies, alert-rule
# unit tests, Dockerfile rules, runbook links) and actionlint over
# .github/workflows. Fails when a test fails or none ran. Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/gotest.sh

ACTIONLINT_VERSION=v1.7.12

echo "== [deploy ${SECONDS}s] gofmt and go vet (deploy module)"
unformatted=$(cd deploy && gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
(cd deploy && go vet ./...)

echo "== [deploy ${SECONDS}s] go test ./... (deploy module)"
go_test "deploy tests" deploy

echo "== [deploy ${SECONDS}s] actionlint ${ACTIONLINT_VERSION} over .github/workflows"
go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}"
"$(go env GOPATH)/bin/actionlint" -no-color .github/workflows/*.yaml
echo "actionlint: $(ls .github/workflows/*.yaml | wc -l) workflow(s) clean"
