package jsval

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMsgpackKnownBytes(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, "c0"},
		{true, "c3"},
		{false, "c2"},
		{0.0, "00"},
		{math.Copysign(0, -1), "00"},
		{127.0, "7f"},
		{128.0, "cc80"},
		{255.0, "ccff"},
		{256.0, "cd0100"},
		{65535.0, "cdffff"},
		{65536.0, "ce00010000"},
		{4294967295.0, "ceffffffff"},
		{4294967296.0, "cf0000000100000000"},
		{-1.0, "ff"},
		{-32.0, "e0"},
		{-33.0, "d0df"},
		{-128.0, "d080"},
		{-129.0, "d1ff7f"},
		{-32768.0, "d18000"},
		{-32769.0, "d2ffff7fff"},
		{-2147483648.0, "d280000000"},
		{-2147483649.0, "d3ffffffff7fffffff"},
		{1.5, "cb3ff8000000000000"},
		{1e300, "cf0000000000000000"}, // notepack's arithmetic loses it
		{math.Inf(1), "cb7ff0000000000000"},
		{"", "a0"},
		{"a", "a161"},
		{strings.Repeat("x", 31), "bf" + strings.Repeat("78", 31)},
		{strings.Repeat("x", 32), "d920" + strings.Repeat("78", 32)},
		{"é", "a2c3a9"},
		{[]byte{1, 2}, "c4020102"},
		{[]any{}, "90"},
		{[]any{1.0, "a"}, "9201a161"},
		{NewObject("type", 2.0, "nsp", "/"), "82a47479706502a36e7370a12f"},
	}
	for _, c := range cases {
		got := hex.EncodeToString(EncodeMsgpack(c.v))
		assert.Equal(t, c.want, got, "%#v", c.v)
	}
	// Sixteen elements: array 16 and map 16 headers.
	arr := make([]any, 16)
	o := &Object{}
	for i := range arr {
		arr[i] = nil
		o.Set(string(rune('a'+i)), nil)
	}
	assert.Equal(t, "dc0010", hex.EncodeToString(EncodeMsgpack(arr)[:3]))
	assert.Equal(t, "de0010", hex.EncodeToString(EncodeMsgpack(o)[:3]))
}

func TestMsgpackRoundTrip(t *testing.T) {
	v := NewObject("uid", "abc", "packet", NewObject("type", 2.0, "data", []any{"ev", []byte{9}, -5.0, 1.5e-300, NewObject("x", nil)}), "n", 1e15)
	b := EncodeMsgpack(v)
	got, err := DecodeMsgpack(b)
	require.NoError(t, err)
	assert.Equal(t, b, EncodeMsgpack(got))
	assert.Equal(t, string(StringifyJSON(v)), string(StringifyJSON(got)))
}

func TestMsgpackDecodeErrors(t *testing.T) {
	for _, h := range []string{"", "c1", "92", "a3616263ff", "dd7fffffff", "df7fffffff", "c4ff", "cb00"} {
		b, _ := hex.DecodeString(h)
		_, err := DecodeMsgpack(b)
		assert.ErrorIs(t, err, ErrSyntax, h)
	}
}

func TestMsgpackDecodeExtensions(t *testing.T) {
	check := func(h, want string) {
		t.Helper()
		b, _ := hex.DecodeString(h)
		v, err := DecodeMsgpack(b)
		require.NoError(t, err, h)
		assert.Equal(t, want, string(StringifyJSON(v)), h)
	}
	check("d6ff00000001", `"1970-01-01T00:00:01.000Z"`)
	check("92d40000c0", `[null,null]`)
	check("82a161d40000a16201", `{"b":1}`)
	check("d50102ab", `[1,{"type":"Buffer","data":[2,171]}]`)
	check("d70000000000000003e8", `"1970-01-01T00:00:01.000Z"`)
	check("81cc0101", `{"1":1}`)
	check("83a16201a13102a13003", `{"0":3,"1":2,"b":1}`)
}

func TestObjectOrder(t *testing.T) {
	v, err := ParseJSON([]byte(`{"b":1,"2":2,"a":3,"1":4,"01":5,"b":6,"4294967295":7,"4294967294":8}`))
	require.NoError(t, err)
	assert.Equal(t, `{"1":4,"2":2,"4294967294":8,"b":6,"a":3,"01":5,"4294967295":7}`, string(StringifyJSON(v)))
}

func TestJSON(t *testing.T) {
	for in, want := range map[string]string{
		`1.0`:                          `1`,
		`-0`:                           `0`,
		`1e21`:                         `1e+21`,
		`123456789012345678901`:        `123456789012345680000`,
		`1e-7`:                         `1e-7`,
		`0.1`:                          `0.1`,
		`1e400`:                        `null`,
		` [ "a\u00e9\n\u2028" , {} ] `: "[\"aé\\n\u2028\",{}]",
		`"\ud83d\ude00"`:               `"😀"`,
	} {
		v, err := ParseJSON([]byte(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, string(StringifyJSON(v)), in)
	}
	for _, bad := range []string{``, `{`, `[1,]`, `{"a"}`, `01`, `1.`, `"\x01"`, `tru`, `1 2`, `"abc`, `-`, `{"a":1,}`} {
		_, err := ParseJSON([]byte(bad))
		assert.ErrorIs(t, err, ErrSyntax, bad)
	}
	deep := strings.Repeat("[", 2000) + strings.Repeat("]", 2000)
	_, err := ParseJSON([]byte(deep))
	assert.ErrorIs(t, err, ErrSyntax)
}

func TestPacketData(t *testing.T) {
	data := []byte(`["ev",{"_placeholder":true,"num":1},{"a":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":7}]`)
	v, err := FromPacketData(data, [][]byte{{1}, {2}})
	require.NoError(t, err)
	arr := v.([]any)
	assert.Equal(t, []byte{2}, arr[1])
	// Renumbered depth first, as socket.io-parser does.
	out, atts := ToPacketData(v)
	assert.Equal(t, `["ev",{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":7}]`, string(out))
	assert.Equal(t, [][]byte{{2}, {1}}, atts)
	assert.True(t, HasBinary(v))
	// Without attachments a placeholder is an ordinary object.
	v, err = FromPacketData(data, nil)
	require.NoError(t, err)
	assert.False(t, HasBinary(v))
}

func TestNumberString(t *testing.T) {
	assert.Equal(t, "NaN", NumberString(math.NaN()))
	assert.Equal(t, "-Infinity", NumberString(math.Inf(-1)))
	assert.Equal(t, "12", NumberString(12))
	assert.Equal(t, "1.5", NumberString(1.5))
	assert.True(t, bytes.Equal([]byte("0"), []byte(NumberString(math.Copysign(0, -1)))))
}
