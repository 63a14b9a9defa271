package main

import (
	"encoding/base64"

	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/parser/msgpack"
)

// With -parser msgpack the scenarios still build and read the default
// parser's text packets; these functions convert them at the edge, on the
// load tool's side (its CPU, not the server's).

// toMsgpack returns the msgpack message of the Engine.IO message packet
// pkt ("4" then a Socket.IO text packet); ok is false for other packets.
func toMsgpack(pkt []byte) (msg []byte, ok bool) {
	if len(pkt) == 0 || pkt[0] != '0'+byte(eio.Message) {
		return nil, false
	}
	var dec parser.Decoder
	p, err := dec.Text(pkt[1:])
	if err != nil || p == nil {
		return nil, false
	}
	msg, _, _ = msgpack.New().Encode(nil, p)
	return msg, true
}

// fromMsgpack returns a binary message p as the text message of the same
// packet; other packets are returned as they are.
func fromMsgpack(p eio.Packet) eio.Packet {
	if p.Type != eio.Message || !p.Binary {
		return p
	}
	pkt, err := msgpack.New().NewDecoder(0, false).Decode(p.Data, true)
	if err != nil {
		return p
	}
	return eio.Packet{Type: eio.Message, Data: parser.AppendPacket(nil, pkt)}
}

// wire returns pkt as the polling payload carries it: with -parser
// msgpack, a Socket.IO packet becomes a binary message, "b" and base64.
func (c *pollConn) wire(pkt []byte) []byte {
	if !c.d.msgpack {
		return pkt
	}
	msg, ok := toMsgpack(pkt)
	if !ok {
		return pkt
	}
	return base64.StdEncoding.AppendEncode([]byte{'b'}, msg)
}
