package streamsadapter

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gosio/socketio/sio/internal/cluster"
	"github.com/gosio/socketio/sio/internal/jsval"
)

// ErrMalformed is wrapped by the errors of entries and messages that do
// not have the shape the official adapter gives them.
var ErrMalformed = cluster.ErrMalformed

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

// streamName returns the stream of namespace nsp (upstream's
// computeStreamName): with several streams, hashCode(nsp) % count, which
// may be negative, as in JavaScript.
func streamName(nsp string, o *Options) string {
	if o.StreamCount == 1 {
		return o.StreamName
	}
	return o.StreamName + "-" + strconv.Itoa(int(hashCode(nsp))%o.StreamCount)
}

// hashCode is upstream's: hash*31 + UTF-16 unit, kept to 32 bits.
func hashCode(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := surrogates(r)
			h = h*31 + int32(r1)
			h = h*31 + int32(r2)
			continue
		}
		h = h*31 + int32(r)
	}
	return h
}

func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// ephemeral reports whether a message goes through pub/sub rather than
// the stream (upstream's isEphemeral): a broadcast with acknowledgements,
// a server-side emit, a fetchSockets request.
func ephemeral(m *cluster.Message) bool {
	switch m.Type {
	case cluster.ServerSideEmit, cluster.FetchSockets:
		return true
	case cluster.Broadcast:
		if m.Data != nil {
			_, withAck := m.Data.Get("requestId")
			return withAck
		}
	}
	return false
}

// entryFields returns the fields of the stream entry of m, in upstream's
// order: uid, nsp, type (decimal text), data (JSON text, or base64 of the
// msgpack of data when its type may carry binary and it does, unless
// onlyPlaintext).
func entryFields(m *cluster.Message, onlyPlaintext bool) []any {
	f := []any{"uid", m.UID, "nsp", m.NSP, "type", strconv.Itoa(int(m.Type))}
	if m.Data != nil {
		var data string
		if !onlyPlaintext && m.Type.MayCarryBinary() && jsval.HasBinary(m.Data) {
			data = base64.StdEncoding.EncodeToString(encodeMsgpack(m.Data))
		} else {
			data = string(jsval.StringifyJSON(m.Data))
		}
		f = append(f, "data", data)
	}
	return f
}

// decodeEntry returns the message of a stream entry (upstream's decode).
func decodeEntry(values map[string]any) (*cluster.Message, error) {
	str := func(k string) string { s, _ := values[k].(string); return s }
	m := &cluster.Message{UID: str("uid"), NSP: str("nsp")}
	t, err := strconv.ParseInt(strings.TrimSpace(str("type")), 10, 32)
	if err != nil {
		return nil, malformed("type is not a number")
	}
	m.Type = cluster.MessageType(t)
	if d := str("data"); d != "" {
		v, err := decodeData(d)
		if err != nil {
			return nil, err
		}
		o, ok := v.(*jsval.Object)
		if !ok {
			return nil, malformed("data is not an object")
		}
		m.Data = o
	}
	return m, nil
}

// decodeData reads an entry's data: JSON when it starts with "{", base64
// of msgpack otherwise.
func decodeData(d string) (any, error) {
	if strings.HasPrefix(d, "{") {
		return jsval.ParseJSON([]byte(d))
	}
	b, err := base64.StdEncoding.DecodeString(d)
	if err != nil {
		// Buffer.from(s, "base64") is lenient: no padding is needed.
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(d, "=")); err != nil {
			return nil, malformed("data is neither JSON nor base64")
		}
	}
	return jsval.DecodeMsgpack(b)
}

// encodeMessage returns a pub/sub message as upstream writes it: the
// msgpack of {type, data, uid, nsp}.
func encodeMessage(m *cluster.Message) []byte { return encodeMsgpack(m.Value()) }

// decodeMessage reads a pub/sub message.
func decodeMessage(payload []byte) (*cluster.Message, error) {
	v, err := jsval.DecodeMsgpack(payload)
	if err != nil {
		return nil, err
	}
	return cluster.DecodeMessage(v)
}

// encodeMsgpack writes v as @msgpack/msgpack 2.8's encode does (the
// official streams adapter's encoder). It differs from notepack.io's
// only for integers beyond 2^53, which it writes as float64.
func encodeMsgpack(v any) []byte { return appendMsgpack(nil, v) }

func appendMsgpack(b []byte, v any) []byte {
	switch v := v.(type) {
	case float64:
		if v == math.Trunc(v) && math.Abs(v) > 1<<53-1 {
			b = append(b, 0xcb)
			return binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		}
		return jsval.AppendMsgpack(b, v)
	case []any:
		b = header(b, len(v), 0x90, 0xdc, 0xdd)
		for _, x := range v {
			b = appendMsgpack(b, x)
		}
		return b
	case *jsval.Object:
		b = header(b, len(v.Keys), 0x80, 0xde, 0xdf)
		for i, k := range v.Keys {
			b = jsval.AppendMsgpack(b, k)
			b = appendMsgpack(b, v.Vals[i])
		}
		return b
	}
	return jsval.AppendMsgpack(b, v)
}

func header(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n < 0x10:
		return append(b, fix|byte(n))
	case n < 0x10000:
		return append(b, b16, byte(n>>8), byte(n))
	}
	b = append(b, b32)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

var errInvalidOffset = errors.New("streamsadapter: invalid offset")

// validOffset is upstream's /^[0-9]+-[0-9]+$/.
func validOffset(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	return ok && digits(ms) && digits(seq)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// nextOffset is upstream's: the id right after offset, for an XRANGE that
// excludes it (exclusive ranges need Redis 6.2).
func nextOffset(offset string) string {
	ms, seq, _ := strings.Cut(offset, "-")
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		// parseInt of digits beyond 2^53 loses precision upstream; here
		// the id is simply the largest of its millisecond.
		return ms + "-18446744073709551615"
	}
	return ms + "-" + strconv.FormatUint(n+1, 10)
}
