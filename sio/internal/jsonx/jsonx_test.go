package jsonx

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

type Inner struct {
	X int `json:"x"`
}

type Embedded struct {
	E  int
	In inner
}

type sample struct {
	Embedded
	*Inner   `json:"p,omitempty"`
	Name     string            `json:"name"`
	Skip     int               `json:"-"`
	Num      int64             `json:"num,string"`
	F32      float32           `json:"f32"`
	F        float64           `json:"f"`
	U        uint8             `json:"u"`
	Bytes    []byte            `json:"bytes"`
	Arr      [3]int            `json:"arr"`
	M        map[string]any    `json:"m"`
	MI       map[int]string    `json:"mi"`
	Any      any               `json:"any"`
	Ptr      *int              `json:"ptr"`
	T        time.Time         `json:"t"`
	TP       *time.Time        `json:"tp,omitzero"`
	D        time.Duration     `json:"d"`
	Raw      json.RawMessage   `json:"raw"`
	N        json.Number       `json:"n"`
	Sl       []inner           `json:"sl"`
	Nested   map[string][]bool `json:"nested"`
	private  int
	Iface    fmt.Stringer `json:"iface"`
	HTML     string       `json:"html"`
	Q        bool         `json:",string"`
	Unicode  string       `json:"unicode"`
	KeyCased int
}

var decodeInputs = []string{
	`{"a":1,"b":"x"}`,
	`{"name":"n","num":"42","f32":1.5,"f":-1e-7,"u":255,"bytes":"aGVsbG8=","arr":[1,2],"m":{"x":[1,"a",null,true,{"y":2}]},"mi":{"1":"one","-2":"two"},"any":{"k":[1,2]},"ptr":7,"t":"2024-01-02T03:04:05Z","d":5,"raw":{"z": [1, 2]},"n":1.25e3,"sl":[{"a":1},{"a":2,"b":"c"}],"nested":{"x":[true,false]},"html":"<&>","Q":"true","unicode":"\u00e9\ud83d\ude00\ud800x\\\"","keycased":3,"E":9,"In":{"a":4},"p":{"x":8}}`,
	`{"u":256}`,
	`{"u":-1}`,
	`{"name":5}`,
	`{"arr":[1,2,3,4,5]}`,
	`{"sl":{"a":1}}`,
	`{"num":42}`,
	`{"num":"x"}`,
	`{"Q":"yes"}`,
	`{"bytes":"!!"}`,
	`{"t":"not a time"}`,
	`{"mi":{"x":"y"}}`,
	`{"f32":1e100}`,
	`[1,2,3]`,
	`"str"`,
	`null`,
	`{"a":1,}`,
	`{"a" 1}`,
	`[1 2]`,
	`{"a":tru}`,
	`{"a":"\x"}`,
	`{"a":-}`,
	`{"a":1.}`,
	`{"a":1e}`,
	`{"a":01}`,
	` {"a":1} x`,
	``,
	`{"a":`,
	`"abc`,
	"\"\x01\"",
	`{"any":1e400}`,
	`{"n":"12"}`,
	`{"n":"abc"}`,
	`{"sl":null,"m":null,"ptr":null,"name":null,"u":null}`,
	`{"sl":[]}`,
	`{"In":{"a":"x"}}`,
}

func TestUnmarshalLikeEncodingJSON(t *testing.T) {
	for _, in := range decodeInputs {
		for _, mk := range []func() any{
			func() any { return new(sample) },
			func() any { return new(any) },
			func() any { return new(map[string]any) },
			func() any { return new([]int) },
			func() any { return new(inner) },
			func() any { return new(string) },
			func() any { return new([2]any) },
			func() any { return new(map[string]json.RawMessage) },
		} {
			want, got := mk(), mk()
			werr := json.Unmarshal([]byte(in), want)
			gerr := unmarshal([]byte(in), got)
			if !reflect.DeepEqual(want, got) {
				t.Errorf("%T %s:\n got %#v\nwant %#v", want, in, got, want)
			}
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Errorf("%T %s: error\n got %v\nwant %v", want, in, gerr, werr)
			}
			if se, ok := werr.(*json.SyntaxError); ok {
				if gse, ok := gerr.(*json.SyntaxError); !ok || gse.Offset != se.Offset {
					t.Errorf("%s: error %#v, want %#v", in, gerr, werr)
				}
			}
		}
		if json.Valid([]byte(in)) != (checkValid([]byte(in)) == nil) {
			t.Errorf("Valid(%s) differs", in)
		}
		if json.Valid([]byte(in)) != valid([]byte(in)) {
			t.Errorf("valid(%s) differs", in)
		}
	}
}

type textKey struct{ s string }

func (k textKey) MarshalText() ([]byte, error) { return []byte("k:" + k.s), nil }

type marsh struct{ v string }

func (m *marsh) MarshalJSON() ([]byte, error) { return []byte(" { \"v\" : \"" + m.v + "<\" } "), nil }

func TestMarshalLikeEncodingJSON(t *testing.T) {
	seven := 7
	tm := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	values := []any{
		nil, 1, "a<b>&c\u2028", 1.5, float32(0.1), 1e21, 1e-7, -0.0, true, []byte("hi"), []byte(nil),
		[]any{1, "x", nil, map[string]any{"b": 1, "a": []int{1}}},
		map[int]string{3: "c", -1: "a"},
		map[textKey]int{{"b"}: 1, {"a"}: 2},
		sample{Name: "n", Num: 5, Ptr: &seven, T: tm, TP: &tm, Raw: json.RawMessage(`{"x" : 1}`), N: "12", Any: []byte("z"),
			Embedded: Embedded{E: 1, In: inner{A: 2}}, Inner: &Inner{X: 3}, Q: true, Unicode: "é"},
		&marsh{"x"}, []marsh{{"y"}}, struct{ M *marsh }{}, [2]byte{1, 2},
		map[string]any{"f": func() {}}, make(chan int), []float64{1, 2.5e-8},
		struct {
			A int       `json:"a,omitzero"`
			B time.Time `json:",omitzero"`
		}{},
	}
	for _, v := range values {
		want, werr := json.Marshal(v)
		got, gerr := marshal(v)
		if string(want) != string(got) || (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Errorf("%#v:\n got %s, %v\nwant %s, %v", v, got, gerr, want, werr)
		}
		vv := reflect.ValueOf(v)
		if !vv.IsValid() {
			continue
		}
		p := reflect.New(vv.Type()) // addressable values use pointer methods
		p.Elem().Set(vv)
		want, werr = json.Marshal(p.Interface())
		got, gerr = AppendValue(nil, p.Elem(), true)
		if string(want) != string(got) || (werr == nil) != (gerr == nil) {
			t.Errorf("addressable %#v:\n got %s, %v\nwant %s, %v", v, got, gerr, want, werr)
		}
	}
}

func TestAppendValueNoHTML(t *testing.T) {
	got, err := AppendValue(nil, reflect.ValueOf(map[string]string{"<": "&>"}), false)
	if err != nil || string(got) != `{"<":"&>"}` {
		t.Fatalf("got %s, %v", got, err)
	}
	if !strings.Contains(string(got), "<") {
		t.Fatal("escaped")
	}
}

func TestSyntaxErrorLayout(t *testing.T) {
	err := newSyntaxError("msg", 7)
	se, ok := err.(*json.SyntaxError)
	if !ok || se.Error() != "msg" || se.Offset != 7 {
		t.Fatalf("got %#v", err)
	}
	if unsafe.Sizeof(json.SyntaxError{}) != unsafe.Sizeof(syntaxError{}) {
		t.Fatal("json.SyntaxError changed layout")
	}
}

type textVal struct{ s string }

func (t *textVal) UnmarshalText(b []byte) error { t.s = "t:" + string(b); return nil }

func (t textVal) MarshalText() ([]byte, error) { return []byte(t.s), nil }

type fuzzTarget struct {
	A  int                `json:"a"`
	B  []byte             `json:"b"`
	S  string             `json:"s,omitempty"`
	F  float32            `json:"f"`
	M  map[string]int     `json:"m"`
	TK map[textVal]string `json:"tk"`
	TV textVal            `json:"tv"`
	P  *fuzzTarget        `json:"p"`
	L  []any              `json:"l"`
	R  json.RawMessage    `json:"r"`
	Ar [2]uint16          `json:"ar"`
	N  json.Number        `json:"n"`
	Q  int                `json:"q,string"`
	QS string             `json:"qs,string"`
}

func FuzzUnmarshal(f *testing.F) {
	for _, in := range decodeInputs {
		f.Add([]byte(in))
	}
	f.Add([]byte(`{"a":1,"b":"AAE=","s":"x\u00e9","f":1.5,"m":{"x":1},"tk":{"k":"v"},"tv":"z","p":{"a":2,"p":null},"l":[1,"2",[3],{"4":5}],"r":[1, 2],"ar":[1,2,3],"n":12,"q":"5","qs":"\"x\""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mk := range []func() any{
			func() any { return new(fuzzTarget) },
			func() any { return new(any) },
			func() any { return &fuzzTarget{M: map[string]int{"old": 1}, L: []any{"x", "y", "z"}} },
		} {
			want, got := mk(), mk()
			werr := json.Unmarshal(data, want)
			gerr := unmarshal(data, got)
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Fatalf("%s: error\n got %v\nwant %v", data, gerr, werr)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("%s:\n got %#v\nwant %#v", data, got, want)
			}
			if werr != nil {
				continue
			}
			wb, werr := json.Marshal(want)
			gb, gerr := marshal(want)
			if string(wb) != string(gb) || (werr == nil) != (gerr == nil) {
				t.Fatalf("marshal %#v:\n got %s, %v\nwant %s, %v", want, gb, gerr, wb, werr)
			}
		}
		if json.Valid(data) != valid(data) {
			t.Fatalf("valid(%q) differs", data)
		}
		if json.Valid(data) != (checkValid(data) == nil) {
			t.Fatalf("Valid(%q) differs", data)
		}
	})
}

func TestValidMatchesEncodingJSON(t *testing.T) {
	deep := func(n int, open, close string) []byte {
		return []byte(strings.Repeat(open, n) + strings.Repeat(close, n))
	}
	cases := [][]byte{
		deep(maxDepth, "[", "]"), deep(maxDepth+1, "[", "]"),
		[]byte(strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth)),
		[]byte(strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)),
		[]byte(" [ ] "), []byte("[1,]"), []byte(`{"a" : [ 1 , {"b":"\u00e9\n"} ] }`), []byte(`{"a":1,}`),
		[]byte(`["\u12"]`), []byte(`"\u1234"`), []byte(`"\u123"`), []byte("[}"), []byte("{]"), []byte(`{"a"}`),
		[]byte("-0.5e+3"), []byte("01"), []byte("1."), []byte("tru"), []byte("nulll"), []byte(""), []byte("  "),
		[]byte("\"\x01\""), []byte("\"\xff\""), []byte(`[1 2]`), []byte(`{"a":1 "b":2}`), []byte(`{1:2}`),
	}
	for _, c := range cases {
		if json.Valid(c) != valid(c) {
			t.Errorf("valid(%.60s) = %v, json.Valid says %v", c, valid(c), json.Valid(c))
		}
	}
}

func BenchmarkValid(b *testing.B) {
	doc := []byte(`["echo","` + strings.Repeat("x", 100) + `",{"a":1,"b":[true,null,2.5e3],"c":"d\u00e9"}]`)
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			json.Valid(doc)
		}
	})
	b.Run("jsonx", func(b *testing.B) {
		for b.Loop() {
			valid(doc)
		}
	})
}

// TestScanStringWordAtATime puts each kind of byte that matters to a
// string (quote, backslash, control character, DEL, non-ASCII) at every
// position of strings of several lengths, around the 8-byte words scanned
// at once, and checks valid against encoding/json.
func TestScanStringWordAtATime(t *testing.T) {
	for n := 0; n <= 20; n++ {
		for pos := 0; pos < n; pos++ {
			for _, ins := range []string{`"`, `\`, `\n`, `\u00e9`, `\x`, "\x1f", "\x00", "\x7f", "\x80", "\xff", " ", "~"} {
				body := []byte(strings.Repeat("a", n))
				in := append([]byte(`"`), body[:pos]...)
				in = append(in, ins...)
				in = append(in, body[pos:]...)
				in = append(in, '"')
				if got, want := valid(in), json.Valid(in); got != want {
					t.Errorf("valid(%q) = %v, json.Valid says %v", in, got, want)
				}
			}
		}
	}
}
