package e2e

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gosio/socketio/cmd/server/app"
	"github.com/gosio/socketio/e2e/internal/nodeenv"
	"github.com/gosio/socketio/sio/engine"
	"github.com/gosio/socketio/sio/server"
)

// TestOfficialClientAgainstGoServer runs every scenario of the official
// socket.io-client (e2e/testdata/node/client.js) against this project's
// server configured as the interop test app (CONTRACT.md).
func TestOfficialClientAgainstGoServer(t *testing.T) {
	nodeenv.Require(t)
	// The contract's timings for tests (CONTRACT.md): 1 s / 1 s, so that a
	// loaded machine does not time out healthy clients.
	c := app.NewConformance(nil, &server.Options{
		PingInterval:      time.Second,
		PingTimeout:       time.Second,
		MaxHTTPBufferSize: 1e6,
		ConnectTimeout:    time.Second,
		CORS:              &engine.CORSOptions{Origin: []string{"*"}},
	})
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
