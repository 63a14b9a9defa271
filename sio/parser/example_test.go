package parser_test

import (
	"fmt"

	"github.com/gosio/socketio/sio/parser"
)

// Example encodes an event carrying binary data, then decodes its frames
// as a receiver would.
func Example() {
	type upload struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}

	// Sender: the payload, then the packet's text frame; each attachment
	// follows as a binary frame.
	data, atts, err := parser.AppendEvent(nil, "upload", []any{upload{Name: "a.bin", Data: []byte{1, 2, 3}}})
	if err != nil {
		panic(err)
	}
	pkt := parser.Packet{Type: parser.BinaryEvent, Namespace: "/files", Data: data, Attachments: atts}
	text := parser.AppendPacket(nil, &pkt)
	fmt.Printf("%s + %d attachment(s)\n", text, len(atts))

	// Receiver: the text frame, then the binary frames.
	var d parser.Decoder
	p, err := d.Text(text)
	fmt.Println(p == nil, err, d.Pending())
	p, err = d.Binary(atts[0])
	if err != nil {
		panic(err)
	}
	name, args, err := p.Event()
	if err != nil {
		panic(err)
	}
	var u upload
	if err := args[0].Decode(&u); err != nil {
		panic(err)
	}
	fmt.Println(p.Namespace, name, u.Name, u.Data)

	// Output:
	// 51-/files,["upload",{"name":"a.bin","data":{"_placeholder":true,"num":0}}] + 1 attachment(s)
	// true <nil> true
	// /files upload a.bin [1 2 3]
}
