package parser

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeBinary decodes a text frame and its attachments.
func decodeBinary(t *testing.T, wire string, atts ...[]byte) *Packet {
	t.Helper()
	var d Decoder
	p, err := d.Text([]byte(wire))
	require.NoError(t, err)
	for _, a := range atts {
		require.Nil(t, p)
		p, err = d.Binary(a)
		require.NoError(t, err)
	}
	require.NotNil(t, p)
	return p
}

func TestEventKeepsRawBytes(t *testing.T) {
	p := decodeBinary(t, `2/chat,3[ "say" , {"z":1,"a":[1.0e2, "\u00e9"]} ,"x\"y", null,true ,-0.5 ]`)
	name, args, err := p.Event()
	require.NoError(t, err)
	assert.Equal(t, "say", name)
	raws := make([]string, len(args))
	for i, a := range args {
		raws[i] = string(a.Raw)
		assert.Nil(t, a.Attachments)
	}
	assert.Equal(t, []string{`{"z":1,"a":[1.0e2, "\u00e9"]}`, `"x\"y"`, `null`, `true`, `-0.5`}, raws)

	// Escaped event names are decoded.
	p = decodeBinary(t, `2["caf\u00e9 \"q\""]`)
	name, args, err = p.Event()
	require.NoError(t, err)
	assert.Equal(t, `café "q"`, name)
	assert.Empty(t, args)

	// Event and Args check the packet type.
	_, _, err = p.Event()
	require.NoError(t, err)
	_, err = p.Args()
	require.ErrorIs(t, err, ErrInvalidPayload)
	_, _, err = (&Packet{Type: Ack, Data: []byte(`[]`)}).Event()
	require.ErrorIs(t, err, ErrInvalidPayload)
	_, _, err = (&Packet{Type: Event, Data: []byte(`[]`)}).Event()
	require.ErrorIs(t, err, ErrInvalidPayload)
	_, _, err = (&Packet{Type: Event, Data: []byte(`[1]`)}).Event()
	require.ErrorIs(t, err, ErrInvalidPayload)
	_, _, err = (&Packet{Type: Event}).Event()
	require.ErrorIs(t, err, ErrInvalidPayload)

	// Malformed data in hand-made packets is an error, not a panic.
	for _, data := range []string{`[`, `["a"`, `["a",`, `["a" "b"]`, `["a",{]`, `["a","]`, `["a"]]`, `{}`} {
		_, _, err = (&Packet{Type: Event, Data: []byte(data)}).Event()
		require.ErrorIs(t, err, ErrInvalidPayload, data)
	}

	args, err = decodeBinary(t, `31[]`).Args()
	require.NoError(t, err)
	assert.Empty(t, args)
}

func TestValueDecodeBinary(t *testing.T) {
	p := decodeBinary(t,
		`54-["up",{"name":"f","blob":{"_placeholder":true,"num":0},"meta":{"thumb":{"_placeholder":true,"num":1}},"list":[{"_placeholder":true,"num":2}]},{"_placeholder":true,"num":3}]`,
		[]byte("B0"), []byte("B1"), []byte("B2"), []byte("B3"))
	assert.Equal(t, BinaryEvent, p.Type)
	_, args, err := p.Event()
	require.NoError(t, err)
	require.Len(t, args, 2)

	// Into *any.
	var generic any
	require.NoError(t, args[0].Decode(&generic))
	assert.Equal(t, map[string]any{
		"name": "f",
		"blob": []byte("B0"),
		"meta": map[string]any{"thumb": []byte("B1")},
		"list": []any{[]byte("B2")},
	}, generic)

	// Into a struct with []byte fields and generic fields.
	type meta struct {
		Thumb []byte `json:"thumb"`
	}
	type upload struct {
		Name  string         `json:"name"`
		Blob  []byte         `json:"blob"`
		Meta  *meta          `json:"meta"`
		List  []any          `json:"list"`
		Other map[string]any `json:"other"`
	}
	var u upload
	require.NoError(t, args[0].Decode(&u))
	assert.Equal(t, upload{Name: "f", Blob: []byte("B0"), Meta: &meta{Thumb: []byte("B1")}, List: []any{[]byte("B2")}}, u)

	// Case-insensitive field names and generic struct fields.
	type loose struct {
		BLOB any
		Meta map[string]any
		List [][]byte
	}
	var l loose
	require.NoError(t, args[0].Decode(&l))
	assert.Equal(t, loose{BLOB: []byte("B0"), Meta: map[string]any{"thumb": []byte("B1")}, List: [][]byte{[]byte("B2")}}, l)

	// Into maps.
	var m map[string]any
	require.NoError(t, args[0].Decode(&m))
	assert.Equal(t, []byte("B0"), m["blob"])
	var mr map[string]json.RawMessage
	require.NoError(t, args[0].Decode(&mr))
	assert.Equal(t, `"QjA="`, string(mr["blob"]), "raw JSON sees base64")

	// A bare placeholder into []byte, *any, and interface slices.
	var b []byte
	require.NoError(t, args[1].Decode(&b))
	assert.Equal(t, []byte("B3"), b)
	assert.Same(t, &p.Attachments[3][0], &b[0], "a whole-value placeholder aliases its attachment")
	var s string
	require.NoError(t, args[1].Decode(&s))
	assert.Equal(t, "QjM=", s)
	var arr []any
	require.NoError(t, Value{Raw: json.RawMessage(`[1,{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{7}}}.Decode(&arr))
	assert.Equal(t, []any{1.0, []byte{7}}, arr)

	// An interface holding a pointer is decoded into.
	var target []byte
	var holder any = &target
	require.NoError(t, args[1].Decode(&holder))
	assert.Equal(t, []byte("B3"), target)

	// A type decoding itself sees base64, a string gets base64, []byte
	// fields alias the attachments in any case.
	type custom struct {
		Name string         `json:"name"`
		Blob b64Recorder    `json:"blob"`
		Meta map[string]any `json:"meta"`
		List []string       `json:"list"`
		When *time.Time     `json:"when"`
	}
	var c custom
	require.NoError(t, args[0].Decode(&c))
	assert.Equal(t, custom{Name: "f", Blob: b64Recorder(`"QjA="`), Meta: map[string]any{"thumb": []byte("B1")}, List: []string{"QjI="}}, c)
	var u2 upload
	require.NoError(t, args[0].Decode(&u2))
	assert.Same(t, &p.Attachments[0][0], &u2.Blob[0], "[]byte fields alias the attachments")
	assert.Same(t, &p.Attachments[1][0], &u2.Meta.Thumb[0])

	// Into *Value.
	var v Value
	require.NoError(t, args[1].Decode(&v))
	assert.Equal(t, args[1], v)

	// Decoded bytes alias the attachments.
	p.Attachments[2][0] = 'X'
	assert.Equal(t, []byte("X2"), generic.(map[string]any)["list"].([]any)[0])
}

// b64Recorder records the JSON it is decoded from.
type b64Recorder string

func (r *b64Recorder) UnmarshalJSON(b []byte) error {
	*r = b64Recorder(b)
	return nil
}

func TestValueDecodeMapKeys(t *testing.T) {
	v := Value{
		Raw:         json.RawMessage(`{"1":{"_placeholder":true,"num":0},"2":"s","-3":[{"_placeholder":true,"num":1}]}`),
		Attachments: [][]byte{{1}, {2}},
	}
	var mi map[int]any
	require.NoError(t, v.Decode(&mi))
	assert.Equal(t, map[int]any{1: []byte{1}, 2: "s", -3: []any{[]byte{2}}}, mi)

	var mu map[uint8]any
	require.Error(t, v.Decode(&mu)) // "-3" is no uint8, for encoding/json too

	type key string
	var mk map[key][]any
	require.NoError(t, Value{Raw: json.RawMessage(`{"k":[{"_placeholder":true,"num":0}]}`), Attachments: [][]byte{{3}}}.Decode(&mk))
	assert.Equal(t, map[key][]any{"k": {[]byte{3}}}, mk)

	type named uint16
	var mn map[named]any
	require.NoError(t, Value{Raw: json.RawMessage(`{"7":{"_placeholder":true,"num":0}}`), Attachments: [][]byte{{5}}}.Decode(&mn))
	assert.Equal(t, map[named]any{7: []byte{5}}, mn)
	var mt map[textKey]any
	require.NoError(t, Value{Raw: json.RawMessage(`{"7":{"_placeholder":true,"num":0}}`), Attachments: [][]byte{{5}}}.Decode(&mt))
	assert.Equal(t, map[textKey]any{7: []byte{5}}, mt)

	var arr [2]any
	require.NoError(t, Value{Raw: json.RawMessage(`[{"_placeholder":true,"num":0},1,2]`), Attachments: [][]byte{{4}}}.Decode(&arr))
	assert.Equal(t, [2]any{[]byte{4}, 1.0}, arr)
}

func TestValueDecodeWithoutAttachments(t *testing.T) {
	// In a packet without attachments a placeholder is a plain object.
	p := decodeBinary(t, `2["a",{"_placeholder":true,"num":0}]`)
	_, args, err := p.Event()
	require.NoError(t, err)
	var x any
	require.NoError(t, args[0].Decode(&x))
	assert.Equal(t, map[string]any{"_placeholder": true, "num": 0.0}, x)

	type chat struct {
		User string `json:"user"`
		Text string `json:"text"`
	}
	var c chat
	require.NoError(t, Value{Raw: json.RawMessage(`{"user":"ann","text":"hi"}`)}.Decode(&c))
	assert.Equal(t, chat{"ann", "hi"}, c)

	var ute *json.UnmarshalTypeError
	require.ErrorAs(t, Value{Raw: json.RawMessage(`"s"`)}.Decode(&c), &ute)
	var se *json.SyntaxError
	require.ErrorAs(t, Value{Raw: json.RawMessage(`{`)}.Decode(&x), &se)
}

func TestValueDecodeErrors(t *testing.T) {
	atts := [][]byte{{1}, {2}}
	for _, raw := range []string{
		`{"_placeholder":true,"num":2}`,
		`{"_placeholder":true,"num":-1}`,
		`{"_placeholder":true,"num":0.5}`,
		`{"_placeholder":true,"num":"0"}`,
		`{"_placeholder":true}`,
		`[{"_placeholder":true,"num":1},{"_placeholder":true,"num":1}]`,
	} {
		var x any
		err := Value{Raw: json.RawMessage(raw), Attachments: atts}.Decode(&x)
		require.ErrorIs(t, err, ErrInvalidAttachments, raw)
		var b []byte
		err = Value{Raw: json.RawMessage(raw), Attachments: atts}.Decode(&b)
		require.ErrorIs(t, err, ErrInvalidAttachments, raw)
	}

	// Invalid JSON is reported by encoding/json.
	var se *json.SyntaxError
	var x any
	require.ErrorAs(t, Value{Raw: json.RawMessage(`[{"_placeholder":true,"num":0}`), Attachments: atts}.Decode(&x), &se)
	require.ErrorAs(t, Value{Raw: json.RawMessage(`{"_placeholder":true,"num":0}}`), Attachments: atts}.Decode(&x), &se)

	// A non-pointer destination is reported by encoding/json.
	var ie *json.InvalidUnmarshalError
	require.ErrorAs(t, Value{Raw: json.RawMessage(`{"_placeholder":true,"num":0}`), Attachments: atts}.Decode(x), &ie)
}

// TestRoundTrip checks decode(encode(p)) == p over generated packets.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var gen func(depth int) any
	gen = func(depth int) any {
		switch n := r.IntN(10); {
		case n == 0:
			return nil
		case n == 1:
			return r.IntN(2) == 0
		case n == 2:
			return float64(r.IntN(1e6)) / 8
		case n == 3:
			return strings.Repeat("é<\"\\\n", r.IntN(3)) + strconv.Itoa(r.IntN(100))
		case n <= 5:
			b := make([]byte, r.IntN(5))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			return b
		case n <= 7 && depth < 4:
			s := make([]any, r.IntN(4))
			for i := range s {
				s[i] = gen(depth + 1)
			}
			return s
		case depth < 4:
			m := map[string]any{}
			for range r.IntN(4) {
				m["k"+strconv.Itoa(r.IntN(10))] = gen(depth + 1)
			}
			return m
		}
		return "leaf"
	}
	namespaces := []string{"/", "/admin", "/a/b-c_d.é", "/ x"}

	var d Decoder
	for i := range 2000 {
		p := Packet{Namespace: namespaces[r.IntN(len(namespaces))]}
		args := make([]any, r.IntN(4))
		for j := range args {
			args[j] = gen(0)
		}
		var err error
		var name string
		switch r.IntN(5) {
		case 0:
			p.Type = Event
			name = "ev" + strconv.Itoa(r.IntN(100))
			p.Data, p.Attachments, err = AppendEvent(nil, name, args)
		case 1:
			p.Type = Ack
			p.Data, p.Attachments, err = AppendArgs(nil, args)
		case 2:
			p.Type = Connect
			if r.IntN(2) == 0 {
				p.Data = []byte(`{"token":"` + strconv.Itoa(i) + `"}`)
			}
		case 3:
			p.Type = Disconnect
		case 4:
			p.Type = ConnectError
			p.Data = []byte(`{"message":"no"}`)
		}
		require.NoError(t, err)
		if p.Type == Event || p.Type == Ack {
			p.ID, p.HasID = r.Uint64(), p.Type == Ack || r.IntN(2) == 0
			if !p.HasID {
				p.ID = 0
			}
			if len(p.Attachments) > 0 {
				p.Type += BinaryEvent - Event
			}
			if len(p.Attachments) > defaultMaxAttachments {
				continue
			}
		}

		frame := AppendPacket(nil, &p)
		got, err := d.Text(frame)
		require.NoError(t, err, "%s", frame)
		for _, a := range p.Attachments {
			require.Nil(t, got)
			got, err = d.Binary(a)
			require.NoError(t, err)
		}
		require.NotNil(t, got, "%s", frame)
		assert.Equal(t, p, *got, "%s", frame)

		// The arguments decode back to the generated values.
		var vals []Value
		switch p.Type {
		case Event, BinaryEvent:
			var gotName string
			gotName, vals, err = got.Event()
			require.NoError(t, err)
			assert.Equal(t, name, gotName)
		case Ack, BinaryAck:
			vals, err = got.Args()
			require.NoError(t, err)
		default:
			continue
		}
		require.Len(t, vals, len(args))
		for j, v := range vals {
			var x any
			require.NoError(t, v.Decode(&x))
			assert.Equal(t, normalize(args[j]), x, "%s", frame)
		}
	}
}

// normalize returns x as decoding its JSON into *any yields it: an empty
// []byte stays a []byte, numbers are float64.
func normalize(x any) any {
	switch x := x.(type) {
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = normalize(el)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			out[k] = normalize(el)
		}
		return out
	case int:
		return float64(x)
	}
	return x
}
