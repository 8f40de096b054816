// Package validate checks Souq's deployment files offline: it renders every
// kustomize overlay, decodes each object strictly into its upstream Go type,
// validates custom resources against the CRD schemas (and CEL rules) their
// projects ship, checks the policies docs/deploy.md promises, unit-tests the
// alert rules, and parses the Dockerfile. Everything is in its tests.
package validate
