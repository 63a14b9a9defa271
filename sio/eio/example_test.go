package eio_test

import (
	"fmt"

	"github.com/gosio/socketio/sio/eio"
)

// A long-polling exchange: the server encodes a payload holding a text and a
// binary message, and the client decodes it.
func Example() {
	payload := eio.AppendPayload(nil,
		eio.Packet{Type: eio.Message, Data: []byte("hello")},
		eio.Packet{Type: eio.Message, Data: []byte{1, 2, 3, 4}, Binary: true},
	)
	fmt.Printf("%q\n", payload)

	pkts, err := eio.DecodePayload(nil, payload, eio.Limits{MaxPackets: 16, MaxBytes: 1e6})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pkts {
		fmt.Println(p.Type, p.Binary, p.Data)
	}

	_, err = eio.DecodeFrame([]byte("abc"), false)
	fmt.Println(err)
	// Output:
	// "4hello\x1ebAQIDBA=="
	// message false [104 101 108 108 111]
	// message true [1 2 3 4]
	// eio: invalid packet: unknown packet type 'a' at offset 0
}
