//go:build !js

package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/transport/native"
)

func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	opts := &client.Options{Transport: native.New(nil)}
	opts.Auth = map[string]string{"token": "secret"}
	s, err := client.New("http://localhost:3000/chat", opts)
	if err != nil {
		log.Fatal(err)
	}
	s.On("message", func(e *sio.Event) {
		var text string
		if err := e.Args.Decode(&text); err == nil {
			fmt.Println("received:", text)
		}
	})
	s.OnDisconnect(func(reason sio.Reason) { fmt.Println("disconnected:", reason) })

	if err := s.Connect(ctx); err != nil {
		var refused *client.ConnectError
		if errors.As(err, &refused) {
			log.Fatalf("refused by the server: %s %s", refused.Message, refused.Data)
		}
		log.Fatal(err)
	}
	defer s.Disconnect()

	reply, err := s.Timeout(5*time.Second).EmitWithAck(ctx, "hello", "world", []byte{1, 2, 3})
	if err != nil {
		log.Fatal(err)
	}
	var answer string
	if err := reply.Decode(&answer); err != nil {
		log.Fatal(err)
	}
	fmt.Println("answer:", answer)
}

func ExampleManager() {
	m, err := client.NewManager("https://example.com", &client.Options{
		Transport:  native.New(nil),
		Transports: []string{client.TransportWebSocket},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	m.OnReconnect(func(attempt int) { log.Printf("reconnected after %d attempts", attempt) })

	// Both namespaces share one connection.
	news := m.Socket("/news", nil)
	admin := m.Socket("/admin", &client.SocketOptions{
		AuthFunc: func(ctx context.Context) (any, error) {
			return map[string]string{"token": "fresh token"}, nil
		},
	})
	news.Open()
	admin.Open()
}
