// Package e2e holds the cross-implementation tests: the official
// socket.io-client (Node.js) against this project's server, this project's
// Go client against the official socket.io server, and the Go client
// compiled to wasm in headless Chromium. The fixtures are in testdata/node
// (npm packages pinned by package-lock.json) and internal/.
package e2e
