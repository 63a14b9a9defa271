package parser

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendUnescapeHTML: json.Marshal plus appendUnescapeHTML writes what a
// json.Encoder with SetEscapeHTML(false) writes.
func TestAppendUnescapeHTML(t *testing.T) {
	for _, v := range []any{
		"<a href=\"x\">&amp;</a>", `\u003c is not <`, "\\", "\u2028\u2029 \x01", map[string]string{"<k>": "&"},
		[]string{"a\\", "\\u0026", `\\\u003e`}, 42, nil,
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got := appendUnescapeHTML([]byte("x"), b)
		if string(got) != "x"+string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Errorf("%q: got %s, want x%s", v, got, want.Bytes())
		}
	}
}
