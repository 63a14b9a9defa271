// Package msgpack is the packet format of the official
// socket.io-msgpack-parser (3.0): each packet is one binary Engine.IO
// message, the msgpack encoding (as notepack.io writes it) of a map with
// the keys "type" (0 to 4), "data" (when there is a payload), "id" (when
// there is an ack id) and "nsp"; binary data is msgpack bin inside the
// payload, with no attachments and no BINARY_EVENT or BINARY_ACK type.
//
// Use it on both sides:
//
//	srv := server.New(&server.Options{Parser: msgpack.New()})
//	sock, err := client.New(url, &client.Options{Transport: tr, Parser: msgpack.New()})
//
// and in JavaScript, parser: require("socket.io-msgpack-parser") in the
// options of the server and of the client.
//
// Inside the program packets keep the form of package parser (JSON data in
// which binary data are placeholders, plus attachments), so that handlers,
// Values and adapters work unchanged: the parser converts on the way in and
// out, as a JavaScript value would be. Numbers are JavaScript numbers
// (float64) on the wire: integers beyond 2⁵³ lose precision, as they do in
// JavaScript. A received packet that holds binary data becomes a
// BINARY_EVENT (BINARY_ACK) with one attachment per bin, in depth-first
// order; such a packet holding an object that looks like a placeholder
// ({"_placeholder":true,...}) is rejected, as it would read as binary.
package msgpack

import (
	"math"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/parser"
)

// New returns the parser. It keeps no state: one may serve any number of
// servers and clients.
func New() parser.Parser { return msgpackParser{} }

type msgpackParser struct{}

// Encode implements parser.Parser: one binary message, no attachments.
func (msgpackParser) Encode(dst []byte, p *parser.Packet) ([]byte, bool, [][]byte) {
	return appendPacket(dst, p), true, nil
}

// NewDecoder implements parser.Parser. The limit on attachments does not
// apply: binary data travel inside the packet, bounded by the Engine.IO
// maximum message size.
func (msgpackParser) NewDecoder(int, bool) parser.PacketDecoder { return decoder{} }

// appendPacket appends the msgpack map of p, its keys in the order the
// official server writes an event's: type, data, id, nsp.
func appendPacket(dst []byte, p *parser.Packet) []byte {
	typ := p.Type
	switch typ {
	case parser.BinaryEvent:
		typ = parser.Event
	case parser.BinaryAck:
		typ = parser.Ack
	}
	n := byte(2)
	if p.Data != nil {
		n++
	}
	if p.HasID {
		n++
	}
	dst = append(dst, 0x80|n, 0xa4, 't', 'y', 'p', 'e', byte(typ))
	if p.Data != nil {
		dst = append(dst, 0xa4, 'd', 'a', 't', 'a')
		dst = appendData(dst, p.Data, p.Attachments)
	}
	if p.HasID {
		dst = append(dst, 0xa2, 'i', 'd')
		dst = jsval.AppendMsgpack(dst, float64(p.ID))
	}
	nsp := p.Namespace
	if nsp == "" {
		nsp = "/"
	}
	dst = append(dst, 0xa3, 'n', 's', 'p')
	return jsval.AppendMsgpack(dst, nsp)
}

// appendData appends the msgpack encoding of a packet's data: on the fast
// path when it has no attachments (see direct.go), else through a value
// tree. Data is valid JSON by the contract of parser.Packet; were it not,
// the payload would go out as nil, which the peer rejects.
func appendData(dst, data []byte, atts [][]byte) []byte {
	if len(atts) == 0 {
		if out, err := appendDataFast(dst, data); err == nil {
			return out
		}
	}
	return appendDataTree(dst, data, atts)
}

// appendDataTree is the reference of appendDataFast.
func appendDataTree(dst, data []byte, atts [][]byte) []byte {
	v, _ := jsval.FromPacketData(data, atts)
	return jsval.AppendMsgpack(dst, v)
}

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER: ack ids beyond
// it cannot be told apart.
const maxSafeInteger = 1<<53 - 1

// decoder decodes one message at a time: a packet is never spread over
// several messages.
type decoder struct{}

// Decode implements parser.PacketDecoder with the checks of the official
// decoder (checkPacket), and those the default parser makes on top: a
// namespace starts with '/', an event name is a string that is not
// reserved, an ack has an id and only events and acks have one.
func (decoder) Decode(data []byte, binary bool) (*parser.Packet, error) {
	if !binary {
		return nil, decodeErr(parser.ErrUnexpectedText, "msgpack packets are binary messages")
	}
	if p, err := decodeFast(data); err == nil {
		return p, nil
	}
	return decodeTree(data)
}

// decodeTree is the reference of decodeFast: it decodes any packet through
// a value tree.
func decodeTree(data []byte) (*parser.Packet, error) {
	v, err := jsval.DecodeMsgpack(data)
	if err != nil {
		return nil, decodeErr(parser.ErrInvalidPayload, err.Error())
	}
	m, ok := v.(*jsval.Object)
	if !ok {
		return nil, decodeErr(parser.ErrInvalidPayload, "packet is not a map")
	}
	t, _ := m.Get("type")
	tf, ok := t.(float64)
	if !ok || tf != math.Trunc(tf) || tf < float64(parser.Connect) || tf > float64(parser.ConnectError) {
		return nil, decodeErr(parser.ErrUnknownType, "")
	}
	p := &parser.Packet{Type: parser.Type(tf)}
	nsp, _ := m.Get("nsp")
	ns, ok := nsp.(string)
	if !ok || len(ns) == 0 || ns[0] != '/' {
		return nil, decodeErr(parser.ErrInvalidNamespace, "")
	}
	p.Namespace = ns
	if id, ok := m.Get("id"); ok {
		f, isNum := id.(float64)
		if !isNum || f != math.Trunc(f) || f < 0 || f > maxSafeInteger {
			return nil, decodeErr(parser.ErrInvalidID, "not an integer")
		}
		p.ID, p.HasID = uint64(f), true
	}
	switch p.Type {
	case parser.Connect, parser.Disconnect, parser.ConnectError:
		if p.HasID {
			return nil, decodeErr(parser.ErrInvalidID, "unexpected ack id in "+p.Type.String()+" packet")
		}
	case parser.Ack:
		if !p.HasID {
			return nil, decodeErr(parser.ErrInvalidID, "missing ack id")
		}
	}
	d, hasData := m.Get("data")
	switch p.Type {
	case parser.Connect:
		if _, isObj := d.(*jsval.Object); hasData && !isObj {
			return nil, decodeErr(parser.ErrInvalidPayload, "CONNECT payload is not an object")
		}
	case parser.Disconnect:
		if hasData {
			return nil, decodeErr(parser.ErrInvalidPayload, "unexpected payload in DISCONNECT packet")
		}
	case parser.ConnectError:
		switch d.(type) {
		case *jsval.Object, string:
		default:
			return nil, decodeErr(parser.ErrInvalidPayload, "CONNECT_ERROR payload is neither an object nor a string")
		}
	case parser.Event, parser.Ack:
		a, isArr := d.([]any)
		if !isArr {
			return nil, decodeErr(parser.ErrInvalidPayload, p.Type.String()+" payload is not an array")
		}
		if p.Type == parser.Event {
			if len(a) == 0 {
				return nil, decodeErr(parser.ErrInvalidPayload, "EVENT payload is an empty array")
			}
			name, isStr := a[0].(string)
			if !isStr {
				return nil, decodeErr(parser.ErrInvalidPayload, "event name is not a string")
			}
			if sio.IsReserved(name) {
				return nil, decodeErr(parser.ErrReservedEvent, name)
			}
		}
	}
	if hasData {
		p.Data, p.Attachments = jsval.ToPacketData(d)
		if len(p.Attachments) > 0 {
			if placeholderLike(d, 0) {
				return nil, decodeErr(parser.ErrInvalidAttachments, "an object of a packet with binary data looks like a placeholder")
			}
			for i, a := range p.Attachments {
				if a == nil {
					p.Attachments[i] = []byte{} // empty binary data, not null
				}
			}
			p.Type += parser.BinaryEvent - parser.Event // and BINARY_ACK for ACK
		}
	}
	return p, nil
}

func decodeErr(err error, detail string) error {
	return &parser.DecodeError{Err: err, Detail: detail}
}

// placeholderLike reports whether v holds an object whose _placeholder is
// true, which the Packet form of a binary packet would take for binary
// data. depth only guards the recursion; the decoder bounds nesting.
func placeholderLike(v any, depth int) bool {
	switch x := v.(type) {
	case []any:
		for _, el := range x {
			if placeholderLike(el, depth+1) {
				return true
			}
		}
	case *jsval.Object:
		if ph, ok := x.Get("_placeholder"); ok && ph == true {
			return true
		}
		for _, el := range x.Vals {
			if placeholderLike(el, depth+1) {
				return true
			}
		}
	}
	return false
}
