// Package app holds the server configurations of cmd/server: the demo chat,
// the load-test handlers and the cluster test contract (the conformance
// configuration is internal/conformance, which the library's tests use
// too).
package app
