package engine_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/engine"
)

// An echo server: every message a client sends comes back to it. The
// client here speaks raw HTTP long-polling.
func Example_echo() {
	srv := engine.NewServer(nil)
	srv.OnConnection(func(s *engine.Socket) {
		s.OnMessage(func(data []byte, binary bool) {
			_ = s.SendMessage(data, binary)
		})
		s.OnClose(func(reason sio.Reason, err error) {
			fmt.Println("closed:", reason)
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer srv.Close() // before ts.Close: it releases pending long-polls

	get := func(url string) string {
		res, err := http.Get(url)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	base := ts.URL + "/engine.io/?EIO=4&transport=polling"

	// The handshake: an open packet carrying the session id.
	open := get(base)
	sid := strings.Split(open, `"`)[3]
	fmt.Println(strings.Replace(open, sid, "<sid>", 1))

	// Two messages (text and binary, base64 over polling) in one POST...
	res, err := http.Post(base+"&sid="+sid, "text/plain;charset=UTF-8",
		strings.NewReader("4hello\x1ebAQID"))
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	// ...come back in one GET.
	fmt.Printf("%q\n", get(base+"&sid="+sid))

	// Output:
	// 0{"sid":"<sid>","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
	// "4hello\x1ebAQID"
	// closed: forced server close
}
