//go:build !js

package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// A chat server: middleware, rooms, an acknowledged event and a broadcast
// to a room, reached here by the Go client.
func Example() {
	srv := server.New(nil)
	srv.Use(func(s *server.Socket) error {
		var auth struct{ Name string }
		if err := s.Handshake().DecodeAuth(&auth); err != nil || auth.Name == "" {
			return &server.ConnectError{Message: "name required"}
		}
		s.SetData(auth.Name)
		return nil
	})
	srv.OnConnection(func(s *server.Socket) {
		s.Join("lobby")
		s.On("chat", func(e *sio.Event) {
			text, err := sio.Arg[string](e.Args, 0)
			if err != nil {
				return
			}
			_ = s.To("lobby").Emit("chat", s.Data(), text) // everyone in the lobby but the sender
			_ = e.Ack("delivered")
		})
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := &client.Options{Transport: native.New(nil)}
	opts.Auth = map[string]string{"Name": "ann"}
	c, err := client.Dial(ctx, ts.URL, opts)
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	defer c.Disconnect()
	reply, err := c.EmitWithAck(ctx, "chat", "hello")
	if err != nil {
		fmt.Println("emit:", err)
		return
	}
	status, _ := sio.Arg[string](reply, 0)
	fmt.Println(status)
	// Output: delivered
}
