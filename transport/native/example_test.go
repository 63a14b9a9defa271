//go:build !js

package native_test

import (
	"context"
	"crypto/tls"
	"log"
	"net/http"

	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/transport/native"
)

func ExampleNew() {
	// TLS settings, proxies and timeouts go through the HTTP client; cookies
	// (load balancer affinity) are kept in a jar by default.
	tr := native.New(&native.Options{
		HTTPClient: &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12},
		}},
		Header: http.Header{"User-Agent": {"my-app/1.0"}},
	})
	s, err := client.Dial(context.Background(), "https://example.com", &client.Options{Transport: tr})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Disconnect()
}
