package parser

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stdJSON encodes x with encoding/json, HTML escaping off: the reference
// the encoder must match once placeholders are inlined.
func stdJSON(t *testing.T, x any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(x))
	return strings.TrimSuffix(b.String(), "\n")
}

// inline replaces the placeholders of data by the base64 string of their
// attachment, which is what encoding/json writes for a []byte.
func inline(t *testing.T, data []byte, atts [][]byte) string {
	t.Helper()
	spans, err := placeholders(data)
	require.NoError(t, err)
	nums, err := resolve(spans, len(atts))
	require.NoError(t, err)
	require.Len(t, spans, len(atts), "every attachment has one placeholder")
	var b []byte
	last := 0
	for k, sp := range spans {
		assert.Equal(t, k, nums[k], "placeholders are numbered in order")
		b = append(b, data[last:sp.start]...)
		b = strconv.AppendQuote(b, base64.StdEncoding.EncodeToString(atts[nums[k]]))
		last = sp.end
	}
	return string(append(b, data[last:]...))
}

type Embedded struct {
	E      []byte `json:"e"`
	Shared string
}

type embeddedPtr struct {
	P       []byte
	Shared2 int
}

type conflictA struct{ Dup []byte }
type conflictB struct{ Dup []byte }

type taggedWins struct {
	Win string `json:"Tag"`
}
type untaggedLoses struct{ Tag []byte }

type withMarshaler struct{ B []byte }

func (withMarshaler) MarshalJSON() ([]byte, error) { return []byte(` "custom" `), nil }

type ptrMarshaler struct{ B []byte }

func (*ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"ptr-custom"`), nil }

type textKey int

func (k textKey) MarshalText() ([]byte, error) { return []byte("k" + strconv.Itoa(int(k))), nil }

type zeroer struct{ B []byte }

func (z zeroer) IsZero() bool { return len(z.B) < 2 }

type everything struct {
	Embedded
	*embeddedPtr
	conflictA
	conflictB
	taggedWins
	untaggedLoses
	Name       string            `json:"name"`
	Skip       []byte            `json:"-"`
	Dash       []byte            `json:"-,"`
	Empty      []byte            `json:"empty,omitempty"`
	EmptyAny   any               `json:"emptyAny,omitempty"`
	Zero       zeroer            `json:"zero,omitzero"`
	ZeroPtr    *zeroer           `json:"zeroPtr,omitzero"`
	Num        int               `json:"num,string"`
	Str        string            `json:",string"`
	PNum       *int              `json:"pnum,string"`
	Any        any               `json:"any"`
	Ptr        *[]byte           `json:"ptr"`
	Nested     *everything       `json:"nested,omitempty"`
	List       [][]byte          `json:"list"`
	NilList    [][]byte          `json:"nilList"`
	Arr        [2]byte           `json:"arr"`
	Arr2       [2][]byte         `json:"arr2"`
	M          map[string][]byte `json:"m"`
	NilM       map[string]any    `json:"nilM"`
	MK         map[textKey]any   `json:"mk"`
	MI         map[int]any       `json:"mi"`
	MU         map[uint8][]byte  `json:"mu"`
	WM         withMarshaler     `json:"wm"`
	PM         ptrMarshaler      `json:"pm"`
	Raw        json.RawMessage   `json:"raw"`
	F          float64           `json:"f"`
	F32        float32           `json:"f32"`
	U          uint16            `json:"u"`
	Time       time.Time         `json:"time"`
	Named      myBytes           `json:"named"`
	Text       string            `json:"text"`
	unexported []byte
}

type myBytes []byte

type ptrZeroer struct{ N int }

func (z *ptrZeroer) IsZero() bool { return z.N < 0 }

// omissions covers omitempty and omitzero on every kind.
type omissions struct {
	B   []byte             `json:"b,omitempty"`
	S   string             `json:"s,omitempty"`
	T   bool               `json:"t,omitempty"`
	I   int8               `json:"i,omitempty"`
	U   uint               `json:"u,omitempty"`
	F   float32            `json:"f,omitempty"`
	NF  float64            `json:"nf,omitempty"`
	A   [0]int             `json:"a,omitempty"`
	M   map[string][]byte  `json:"m,omitempty"`
	X   any                `json:"x,omitempty"`
	P   *int               `json:"p,omitempty"`
	St  struct{ B []byte } `json:"st,omitempty"`
	ZB  []byte             `json:"zb,omitzero"`
	ZS  [2]int             `json:"zs,omitzero"`
	ZX  any                `json:"zx,omitzero"`
	ZP  *ptrZeroer         `json:"zp,omitzero"`
	ZV  ptrZeroer          `json:"zv,omitzero"`
	ZT  time.Time          `json:"zt,omitzero"`
	ZSt struct{ B []byte } `json:"zst,omitzero"`
}

func newEverything() *everything {
	n := 42
	b := []byte("ptr")
	return &everything{
		Embedded:      Embedded{E: []byte{1}, Shared: "s"},
		embeddedPtr:   &embeddedPtr{P: []byte{2}, Shared2: 3},
		conflictA:     conflictA{Dup: []byte{3}},
		conflictB:     conflictB{Dup: []byte{4}},
		taggedWins:    taggedWins{Win: "w"},
		untaggedLoses: untaggedLoses{Tag: []byte{5}},
		Name:          "<name & co>",
		Skip:          []byte{6},
		Dash:          []byte{7},
		Zero:          zeroer{B: []byte{8}},
		ZeroPtr:       &zeroer{B: []byte{9, 9}},
		Num:           12,
		Str:           `a"b`,
		PNum:          &n,
		Any:           map[string]any{"z": []any{[]byte{10}, 1.5, nil}, "a": true},
		Ptr:           &b,
		Nested:        &everything{Name: "inner", List: [][]byte{{11}}},
		List:          [][]byte{{12}, {}, nil},
		Arr:           [2]byte{13, 14},
		Arr2:          [2][]byte{{15}, {16}},
		M:             map[string][]byte{"y": {17}, "x": {18}},
		MK:            map[textKey]any{2: []byte{19}, 1: "one"},
		MI:            map[int]any{-1: []byte{20}, 10: 2, 9: 3},
		MU:            map[uint8][]byte{7: {21}},
		WM:            withMarshaler{B: []byte{22}},
		PM:            ptrMarshaler{B: []byte{23}},
		Raw:           json.RawMessage(`{"r":[1,2]}`),
		F:             1e21,
		F32:           0.1,
		U:             65535,
		Time:          time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		Named:         myBytes{24},
		Text:          "é\u2028\x01\t",
		unexported:    []byte{25},
	}
}

// TestEncodeMatchesEncodingJSON checks that, placeholders aside, the encoder
// writes what encoding/json writes, over values covering the struct rules.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	ev := newEverything()
	values := []any{
		nil, "str", true, false, 0, -7, 1.5, 1e-7, 123456789.0, int64(-1) << 62, uint64(1) << 63,
		[]byte{}, []byte("bin"), myBytes("named"), [3]byte{1, 2, 3},
		[]any{1, "a", []byte{1}, []any{[]byte{2}, map[string]any{"k": []byte{3}}}},
		map[string]any{"b": []byte{1}, "a": []byte{2}, "c": map[string]any{"d": []any{[]byte{3}}}},
		map[string]any{}, []any{}, map[string][]byte{"k": {1}},
		[]map[string]any{{"a": []byte{1}}},
		struct {
			A []byte `json:"a"`
			B int    `json:"b"`
		}{[]byte{1}, 2},
		ev, *ev, []*everything{ev, nil}, map[string]*everything{"e": ev},
		&everything{}, everything{},
		[]any{ev, &ev.PM, ev.PM},
		time.Unix(0, 0).UTC(),
		omissions{}, &omissions{},
		omissions{B: []byte{1}, S: "s", T: true, I: -1, U: 1, F: 1, NF: math.Copysign(0, -1), M: map[string][]byte{"k": {2}},
			X: []byte{3}, P: new(int), ZB: []byte{}, ZS: [2]int{0, 1}, ZX: 0, ZP: &ptrZeroer{N: -1}, ZV: ptrZeroer{N: -1},
			ZT: time.Unix(1, 0).UTC(), ZSt: struct{ B []byte }{B: []byte{4}}},
		&omissions{ZP: &ptrZeroer{N: 1}, ZV: ptrZeroer{N: 2}, X: map[string]any{}},
	}
	for i, x := range values {
		data, atts, err := AppendArgs(nil, []any{x})
		require.NoError(t, err, "value %d", i)
		assert.Equal(t, "["+stdJSON(t, x)+"]", inline(t, data, atts), "value %d", i)
	}
}

func TestEncodeStructExact(t *testing.T) {
	type inner struct {
		Blob []byte `json:"blob"`
		Note string `json:"note,omitempty"`
	}
	type msg struct {
		Embedded
		ID    int               `json:"id"`
		In    inner             `json:"in"`
		Ptr   *inner            `json:"ptr,omitempty"`
		Files map[string][]byte `json:"files"`
		Arr   [2]byte           `json:"arr"`
	}
	m := msg{
		Embedded: Embedded{E: []byte("e"), Shared: "s"},
		ID:       1,
		In:       inner{Blob: []byte("in")},
		Files:    map[string][]byte{"b.txt": []byte("B"), "a.txt": []byte("A")},
		Arr:      [2]byte{1, 2},
	}
	data, atts, err := AppendEvent(nil, "upload", []any{m, []byte("last")})
	require.NoError(t, err)
	assert.Equal(t, `["upload",{"e":{"_placeholder":true,"num":0},"Shared":"s","id":1,`+
		`"in":{"blob":{"_placeholder":true,"num":1}},`+
		`"files":{"a.txt":{"_placeholder":true,"num":2},"b.txt":{"_placeholder":true,"num":3}},`+
		`"arr":[1,2]},{"_placeholder":true,"num":4}]`, string(data))
	assert.Equal(t, [][]byte{[]byte("e"), []byte("in"), []byte("A"), []byte("B"), []byte("last")}, atts)
}

func TestEncodeFastPaths(t *testing.T) {
	data, atts, err := AppendEvent(nil, "chat", []any{
		map[string]any{"user": "ann", "text": "hello <b>&</b>"},
		[]any{nil, true, 1, 2.5, "x"},
	})
	require.NoError(t, err)
	assert.Equal(t, `["chat",{"text":"hello <b>&</b>","user":"ann"},[null,true,1,2.5,"x"]]`, string(data))
	assert.Nil(t, atts)

	data, atts, err = AppendArgs(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, `[]`, string(data))
	assert.Nil(t, atts)

	data, _, err = AppendEvent(nil, "", nil)
	require.NoError(t, err)
	assert.Equal(t, `[""]`, string(data))
}

func TestEncodeByteSlices(t *testing.T) {
	// A nil []byte is null, an empty one an empty attachment.
	data, atts, err := AppendArgs(nil, []any{[]byte(nil), struct{ B, C []byte }{C: []byte{}}, myBytes(nil)})
	require.NoError(t, err)
	assert.Equal(t, `[null,{"B":null,"C":{"_placeholder":true,"num":0}},null]`, string(data))
	assert.Equal(t, [][]byte{{}}, atts)

	// Byte arrays are not binary.
	data, atts, err = AppendArgs(nil, []any{[4]byte{1, 2, 3, 4}, &[1]byte{9}})
	require.NoError(t, err)
	assert.Equal(t, `[[1,2,3,4],[9]]`, string(data))
	assert.Nil(t, atts)

	// Attachments alias the arguments.
	b := []byte{1}
	_, atts, err = AppendArgs(nil, []any{b})
	require.NoError(t, err)
	b[0] = 2
	assert.Equal(t, []byte{2}, atts[0])
}

func TestEncodeRawMessage(t *testing.T) {
	data, atts, err := AppendArgs(nil, []any{json.RawMessage(`{ "b" : 1, "a" : [ ] }`), json.RawMessage(nil)})
	require.NoError(t, err)
	assert.Equal(t, `[{ "b" : 1, "a" : [ ] },null]`, string(data))
	assert.Nil(t, atts)

	_, _, err = AppendArgs(nil, []any{json.RawMessage(`{`)})
	require.ErrorIs(t, err, ErrInvalidPayload)
}

func TestEncodeEchoesValues(t *testing.T) {
	var d Decoder
	_, err := d.Text([]byte(`52-["x",{"_placeholder":true,"num":1}, {"k":[ {"_placeholder":true,"num":0} ]} ,3]`))
	require.NoError(t, err)
	_, err = d.Binary([]byte("A"))
	require.NoError(t, err)
	p, err := d.Binary([]byte("B"))
	require.NoError(t, err)
	name, args, err := p.Event()
	require.NoError(t, err)
	require.Equal(t, "x", name)
	require.Len(t, args, 3)
	assert.Equal(t, `{"k":[ {"_placeholder":true,"num":0} ]}`, string(args[1].Raw))

	// Echoed after a new attachment, the placeholders are renumbered.
	data, atts, err := AppendArgs(nil, []any{"pre", []byte("Z"), args[0], args[1], args[2]})
	require.NoError(t, err)
	assert.Equal(t, `["pre",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"k":[ {"_placeholder":true,"num":2} ]},3]`, string(data))
	assert.Equal(t, [][]byte{[]byte("Z"), []byte("B"), []byte("A")}, atts)

	// Nested in a map, in a struct and behind a pointer.
	type wrap struct {
		V  Value  `json:"v"`
		PV *Value `json:"pv"`
	}
	data, atts, err = AppendArgs(nil, []any{map[string]any{"a": args[0]}, wrap{V: args[1], PV: &args[0]}})
	require.NoError(t, err)
	assert.Equal(t, `[{"a":{"_placeholder":true,"num":0}},{"v":{"k":[ {"_placeholder":true,"num":1} ]},"pv":{"_placeholder":true,"num":2}}]`, string(data))
	assert.Equal(t, [][]byte{[]byte("B"), []byte("A"), []byte("B")}, atts)

	// A Value without attachments is verbatim, placeholder-looking or not.
	v := Value{Raw: json.RawMessage(`{"_placeholder":true,"num":0}`)}
	data, atts, err = AppendArgs(nil, []any{v, Value{}})
	require.NoError(t, err)
	assert.Equal(t, `[{"_placeholder":true,"num":0},null]`, string(data))
	assert.Nil(t, atts)

	// Invalid values.
	_, _, err = AppendArgs(nil, []any{Value{Raw: json.RawMessage(`{"_placeholder":true,"num":1}`), Attachments: [][]byte{{1}}}})
	require.ErrorIs(t, err, ErrInvalidAttachments)
	_, _, err = AppendArgs(nil, []any{Value{Raw: json.RawMessage(`[{"_placeholder":true,"num":0}`), Attachments: [][]byte{{1}}}})
	require.ErrorIs(t, err, ErrInvalidPayload)
	_, _, err = AppendArgs(nil, []any{Value{Raw: json.RawMessage(`nope`)}})
	require.ErrorIs(t, err, ErrInvalidPayload)
}

type failingMarshaler struct{}

var errMarshal = errors.New("boom")

func (failingMarshaler) MarshalJSON() ([]byte, error) { return nil, errMarshal }

type failingKey struct{}

func (failingKey) MarshalText() ([]byte, error) { return nil, errMarshal }

type node struct {
	Next *node
	B    []byte
}

func TestEncodeErrors(t *testing.T) {
	cyclicNode := &node{}
	cyclicNode.Next = cyclicNode
	cyclicMap := map[string]any{}
	cyclicMap["m"] = cyclicMap
	cyclicSlice := []any{nil}
	cyclicSlice[0] = cyclicSlice

	var unsupportedValue *json.UnsupportedValueError
	var unsupportedType *json.UnsupportedTypeError
	var marshalerErr *json.MarshalerError
	cases := []struct {
		arg   any
		check func(error) bool
	}{
		{math.NaN(), func(err error) bool { return errors.As(err, &unsupportedValue) }},
		{[]any{math.Inf(1)}, func(err error) bool { return errors.As(err, &unsupportedValue) }},
		{struct {
			F float64
			B []byte
		}{F: math.Inf(-1)}, func(err error) bool { return errors.As(err, &unsupportedValue) }},
		{make(chan int), func(err error) bool { return errors.As(err, &unsupportedType) }},
		{map[string]any{"c": func() {}}, func(err error) bool { return errors.As(err, &unsupportedType) }},
		{map[[2]int][]byte{{1, 2}: nil}, func(err error) bool { return errors.As(err, &unsupportedType) }},
		{map[failingKey][]byte{{}: nil}, func(err error) bool { return errors.Is(err, errMarshal) }},
		{[]any{failingMarshaler{}}, func(err error) bool { return errors.As(err, &marshalerErr) && errors.Is(err, errMarshal) }},
		{cyclicNode, func(err error) bool { return errors.As(err, &unsupportedValue) }},
		{cyclicMap, func(err error) bool { return errors.As(err, &unsupportedValue) }},
		{cyclicSlice, func(err error) bool { return errors.As(err, &unsupportedValue) }},
	}
	for i, tc := range cases {
		dst := []byte("prefix")
		out, atts, err := AppendArgs(dst, []any{[]byte{1}, tc.arg})
		require.Error(t, err, "case %d", i)
		assert.True(t, tc.check(err), "case %d: %v", i, err)
		assert.Contains(t, err.Error(), "argument 1")
		assert.Equal(t, "prefix", string(out), "case %d", i)
		assert.Nil(t, atts)

		out, _, err = AppendEvent(dst, "ev", []any{tc.arg})
		require.Error(t, err, "case %d", i)
		assert.Equal(t, "prefix", string(out), "case %d", i)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `quote " backslash \ slash /`, "<html>&amp;", "\x00\x01\x07\b\f\n\r\t\x1f\x7f",
		"é ü 日本", "\u2028\u2029", "bad \xff utf8 \xc3", "\xed\xa0\x80", "emoji 😀", string(utf8.RuneError)}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			switch r.IntN(3) {
			case 0:
				b[i] = byte(r.IntN(0x80))
			case 1:
				b[i] = byte(r.IntN(0x100))
			default:
				b[i] = "\"\\\u2028é"[r.IntN(7)]
			}
		}
		strs = append(strs, string(b))
	}
	for _, s := range strs {
		assert.Equal(t, stdJSON(t, s), string(appendString(nil, s)), "%q", s)
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 1e-7, 9.999999e-7, 1e20, 1e21, 1.5e21, 123456789,
		math.MaxFloat64, math.SmallestNonzeroFloat64, -1e-300, 5e-324, 1 << 53, 3.14159}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		floats = append(floats, f, float64(r.IntN(1e6))/float64(1+r.IntN(1000)))
	}
	for _, f := range floats {
		got, err := appendFloat(nil, f)
		require.NoError(t, err)
		assert.Equal(t, stdJSON(t, f), string(got), "%v", f)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := appendFloat(nil, f)
		var uv *json.UnsupportedValueError
		assert.ErrorAs(t, err, &uv)
	}
}
