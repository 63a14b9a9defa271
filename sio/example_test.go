//go:build !js

package sio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// The declarations a server and its clients share, in a package of their
// own (the demo's is web/chatapi).
type (
	Greeting struct {
		Text string `json:"text"`
	}
	SumRequest struct {
		A, B int
	}
)

var (
	Greet = sio.NewEvent[Greeting]("greet")
	Sum   = sio.NewAckEvent[SumRequest, int]("sum")
)

// Typed events: the same declarations on both sides, a typed handler with
// a typed acknowledgement, and what a failing handler returns.
func Example_typedEvents() {
	srv := server.New(nil)
	srv.OnConnection(func(s *server.Socket) {
		Sum.Handle(s, func(ctx context.Context, req SumRequest) (int, error) {
			if req.A < 0 || req.B < 0 {
				return 0, errors.New("only natural numbers")
			}
			return req.A + req.B, nil
		})
		_ = Greet.Emit(s, Greeting{Text: "welcome"})
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(context.Background()) //nolint:errcheck

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := native.NewSocket(ts.URL, nil)
	if err != nil {
		panic(err)
	}
	greeted := make(chan Greeting, 1)
	Greet.On(c, func(g Greeting) error { greeted <- g; return nil })
	if err := c.Connect(ctx); err != nil {
		panic(err)
	}
	defer c.Disconnect()
	fmt.Println((<-greeted).Text)

	n, err := Sum.Call(ctx, c, SumRequest{A: 2, B: 3})
	fmt.Println(n, err)
	_, err = Sum.Call(ctx, c, SumRequest{A: -1})
	var ae *sio.AckError
	fmt.Println(errors.As(err, &ae), err)
	// Output:
	// welcome
	// 5 <nil>
	// true only natural numbers
}

// Args print and marshal as the JSON they arrived as.
func ExampleArgs_String() {
	args := sio.Args{{Raw: []byte(`"hi"`)}, {Raw: []byte(`{"n":1}`)}}
	fmt.Println(args)
	// Output: ["hi",{"n":1}]
}
