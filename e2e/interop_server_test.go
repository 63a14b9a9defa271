package e2e

import (
	"net/http/httptest"
	"testing"

	"github.com/gosio/socketio/cmd/server/app"
	"github.com/gosio/socketio/e2e/internal/nodeenv"
)

// TestOfficialClientAgainstGoServer runs every scenario of the official
// socket.io-client (e2e/testdata/node/client.js) against this project's
// server configured as the interop test app (CONTRACT.md).
func TestOfficialClientAgainstGoServer(t *testing.T) {
	nodeenv.Require(t)
	c := app.NewConformance(nil, nil)
	ts := httptest.NewServer(c.Handler())
	t.Cleanup(func() {
		c.Close()
		ts.Close()
	})
	for _, sc := range nodeenv.Scenarios() {
		t.Run(sc, func(t *testing.T) {
			t.Parallel()
			if err := nodeenv.RunClient(t, ts.URL, sc); err != nil {
				t.Fatal(err)
			}
		})
	}
}
