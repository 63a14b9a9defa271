package parser

import (
	"bytes"
	"math"
	"strconv"

	"github.com/gosio/socketio/sio/internal/jsonx"
)

// defaultMaxAttachments is the default of the official parser.
const defaultMaxAttachments = 10

// reservedEvents are the event names a peer may not send.
var reservedEvents = [...]string{
	"connect",        // used on the client side
	"connect_error",  // used on the client side
	"disconnect",     // used on both sides
	"disconnecting",  // used on the server side
	"newListener",    // used by the Node.js EventEmitter
	"removeListener", // used by the Node.js EventEmitter
}

// Decoder decodes the frames of one connection. A binary packet spans a text
// frame and one binary frame per attachment; the Decoder keeps it pending
// until its last attachment arrives.
//
// Decoding is at least as strict as the official parser. Every failure is a
// [*DecodeError] wrapping one of the Err* sentinels, after which the decoder
// is reset. A Decoder is not safe for concurrent use. The zero value is
// ready to use.
type Decoder struct {
	// MaxAttachments is the maximum number of attachments a packet may
	// announce; 0 (or less) means 10, the official default.
	MaxAttachments int
	// ReusePackets has Text return the same Packet for every packet
	// without attachments, valid until the next call to Text or Binary:
	// for a caller done with each packet (its fields; Data aliases the
	// frame, not the Packet) before it decodes the next, it saves an
	// allocation per packet.
	ReusePackets bool

	pending *Packet // binary packet waiting for attachments
	want    int     // number of attachments pending needs
	scratch Packet  // returned again and again with ReusePackets
}

// Text decodes a text frame. For a binary packet it returns (nil, nil)
// until all attachments arrived via [Decoder.Binary].
//
// The returned packet's Data aliases data: the caller must not modify data
// while the packet is in use.
func (d *Decoder) Text(data []byte) (*Packet, error) {
	if d.pending != nil {
		d.Reset()
		return nil, decodeErr(ErrUnexpectedText, "")
	}
	p := &d.scratch
	if !d.ReusePackets {
		p = new(Packet)
	}
	n, err := d.parse(data, p)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		if p == &d.scratch {
			p = &Packet{Type: p.Type, Namespace: p.Namespace, ID: p.ID, HasID: p.HasID, Data: p.Data}
		}
		d.pending, d.want = p, n
		p.Attachments = make([][]byte, 0, min(n, 16))
		return nil, nil
	}
	return p, nil
}

// Binary adds an attachment to the pending binary packet and returns the
// packet once it is complete, (nil, nil) before. The attachment is kept as
// given, not copied.
func (d *Decoder) Binary(data []byte) (*Packet, error) {
	p := d.pending
	if p == nil {
		return nil, decodeErr(ErrUnexpectedBinary, "")
	}
	p.Attachments = append(p.Attachments, data)
	if len(p.Attachments) < d.want {
		return nil, nil
	}
	d.Reset()
	return p, nil
}

// Pending reports whether a binary packet is waiting for attachments.
func (d *Decoder) Pending() bool { return d.pending != nil }

// Reset drops the pending packet, if any.
func (d *Decoder) Reset() { d.pending, d.want = nil, 0 }

// parse decodes and validates a text frame into p and returns the number
// of attachments it announces.
func (d *Decoder) parse(data []byte, p *Packet) (int, error) {
	if len(data) == 0 {
		return 0, decodeErr(ErrUnknownType, "empty frame")
	}
	if data[0] < '0' || data[0] > '6' {
		return 0, decodeErr(ErrUnknownType, strconv.QuoteRuneToASCII(rune(data[0])))
	}
	*p = Packet{Type: Type(data[0] - '0'), Namespace: "/"}
	i := 1

	n := 0
	if p.Type.binary() {
		limit := d.MaxAttachments
		if limit <= 0 {
			limit = defaultMaxAttachments
		}
		start := i
		for ; i < len(data) && isDigit(data[i]); i++ {
			switch {
			case n > (math.MaxInt-9)/10:
				n = math.MaxInt
			case n <= limit: // past the limit the exact value no longer matters
				n = n*10 + int(data[i]-'0')
			}
		}
		if i == start || i == len(data) || data[i] != '-' || n == 0 {
			return 0, decodeErr(ErrInvalidAttachments, "malformed attachment count")
		}
		if n > limit {
			return 0, decodeErr(ErrTooManyAttachments, "more than "+strconv.Itoa(limit))
		}
		i++
	}

	if i < len(data) && data[i] == '/' {
		if j := bytes.IndexByte(data[i:], ','); j >= 0 {
			p.Namespace = nsString(data[i : i+j])
			i += j + 1
		} else {
			p.Namespace = nsString(data[i:])
			i = len(data)
		}
	} else if i < len(data) && !isDigit(data[i]) && looksLikeNamespace(data[i:]) {
		return 0, decodeErr(ErrInvalidNamespace, "namespace does not start with '/'")
	}

	if i < len(data) && isDigit(data[i]) {
		var id uint64
		for ; i < len(data) && isDigit(data[i]); i++ {
			c := uint64(data[i] - '0')
			if id > (math.MaxUint64-c)/10 {
				return 0, decodeErr(ErrInvalidID, "ack id overflows")
			}
			id = id*10 + c
		}
		p.ID, p.HasID = id, true
	}
	if i < len(data) {
		p.Data = data[i:len(data):len(data)]
	}

	if err := validate(p, n); err != nil {
		return 0, err
	}
	return n, nil
}

// nsString returns the namespace as a string, sharing the common ones.
func nsString(b []byte) string {
	if string(b) == "/" {
		return "/"
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// looksLikeNamespace reports whether b, which does not start with '/' or a
// digit, starts with something like a namespace followed by a comma, as in
// `chat,["a"]`, rather than a JSON payload: the text before the first comma
// has no JSON string or structure. Such a frame would be rejected as invalid
// JSON anyway; this gives it a clearer error.
func looksLikeNamespace(b []byte) bool {
	k := bytes.IndexByte(b, ',')
	if k <= 0 {
		return false
	}
	for _, c := range b[:k] { // not bytes.IndexAny, which is larger
		switch c {
		case '[', ']', '{', '}', '"':
			return false
		}
	}
	return true
}

// validate checks the id and the payload of p against its type.
func validate(p *Packet, n int) error {
	switch p.Type {
	case Connect, Disconnect, ConnectError:
		if p.HasID {
			return decodeErr(ErrInvalidID, "unexpected ack id in "+p.Type.String()+" packet")
		}
	case Ack, BinaryAck:
		if !p.HasID {
			return decodeErr(ErrInvalidID, "missing ack id")
		}
	}

	if p.Data == nil {
		switch p.Type {
		case Connect, Disconnect:
			return nil
		}
		return decodeErr(ErrInvalidPayload, "missing payload in "+p.Type.String()+" packet")
	}
	if p.Type == Disconnect {
		return decodeErr(ErrInvalidPayload, "unexpected payload in DISCONNECT packet")
	}
	if !jsonx.Valid(p.Data) {
		return decodeErr(ErrInvalidPayload, "invalid JSON")
	}
	i := skipSpace(p.Data, 0) // valid JSON is not empty
	switch c := p.Data[i]; p.Type {
	case Connect:
		if c != '{' {
			return decodeErr(ErrInvalidPayload, "CONNECT payload is not an object")
		}
	case ConnectError:
		if c != '{' && c != '"' {
			return decodeErr(ErrInvalidPayload, "CONNECT_ERROR payload is neither an object nor a string")
		}
	case Ack, BinaryAck:
		if c != '[' {
			return decodeErr(ErrInvalidPayload, "ACK payload is not an array")
		}
	case Event, BinaryEvent:
		if c != '[' {
			return decodeErr(ErrInvalidPayload, "EVENT payload is not an array")
		}
		if _, err := eventName(p.Data, i, false); err != nil {
			return err
		}
	}

	if n > 0 && mayHavePlaceholder(p.Data) {
		spans, err := placeholders(p.Data)
		if err != nil {
			return err
		}
		if _, err := resolve(spans, n); err != nil {
			return err
		}
	}
	return nil
}

// eventName checks that the first element of the JSON array b[i:] is a
// string that is not a reserved event name, and returns it if decode is set.
func eventName(b []byte, i int, decode bool) (string, error) {
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] == ']' {
		return "", decodeErr(ErrInvalidPayload, "EVENT payload is an empty array")
	}
	if b[i] != '"' {
		return "", decodeErr(ErrInvalidPayload, "event name is not a string")
	}
	e := skipString(b, i)
	if e < 0 {
		return "", errMalformed()
	}
	raw := b[i+1 : e-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		s, ok := unquote(b[i:e])
		if !ok {
			return "", errMalformed()
		}
		raw, decode = []byte(s), true
	}
	for _, r := range reservedEvents {
		if string(raw) == r {
			return "", decodeErr(ErrReservedEvent, strconv.Quote(r))
		}
	}
	if !decode {
		return "", nil
	}
	return string(raw), nil
}
