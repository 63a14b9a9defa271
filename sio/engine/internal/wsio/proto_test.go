//go:build !js

package wsio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/wsframe"
)

// maskedFrame is a client frame: first byte b0, payload p.
func maskedFrame(b0 byte, p string) []byte {
	h := wsframe.AppendHeader(nil, b0&0x0f, len(p))
	h[0] = b0
	h[1] |= 0x80
	key := [4]byte{9, 8, 7, 6}
	b := []byte(p)
	wsframe.MaskCopy(b, b, wsframe.Key4(key), 0)
	return append(append(h, key[:]...), b...)
}

// parseAll feeds data to a parser in pieces of size step and returns the
// frames it yields, and its error.
func parseAll(data []byte, step int, limit int64) ([]wsFrame, error) {
	p := wsParser{limit: limit}
	var out []wsFrame
	for len(data) > 0 {
		piece := data[:min(step, len(data))]
		data = data[len(piece):]
		for len(piece) > 0 {
			n, f, ok, err := p.next(piece)
			piece = piece[n:]
			if err != nil {
				return out, err
			}
			if n == 0 && !ok {
				return out, errors.New("no progress")
			}
			if ok {
				out = append(out, wsFrame{f.op, bytes.Clone(f.data)})
			}
		}
	}
	return out, nil
}

func TestWSParserPieces(t *testing.T) {
	var in []byte
	in = append(in, maskedFrame(0x81, "4hello")...)
	in = append(in, maskedFrame(0x02, "ab")...)
	in = append(in, maskedFrame(0x89, "")...)
	in = append(in, maskedFrame(0x80, strings.Repeat("c", 300))...)
	in = append(in, maskedFrame(0x81, "")...)
	want := []wsFrame{{opText, []byte("4hello")}, {opPing, []byte{}}, {opBinary, []byte("ab" + strings.Repeat("c", 300))}, {opText, []byte{}}}
	for step := 1; step <= len(in); step++ {
		got, err := parseAll(in, step, 1000)
		require.NoError(t, err, "step %d", step)
		require.Equal(t, want, got, "step %d", step)
	}
}

// FuzzWSParser feeds arbitrary bytes to the frame parser, whole and one
// byte at a time: it never panics, yields messages within the limit or a
// typed error, and yields the same however the bytes are split.
func FuzzWSParser(f *testing.F) {
	f.Add(maskedFrame(0x81, "4hello"))
	f.Add(append(maskedFrame(0x01, "4he"), append(maskedFrame(0x89, "x"), maskedFrame(0x80, "llo")...)...))
	f.Add(maskedFrame(0x82, strings.Repeat("z", 300)))
	f.Add(maskedFrame(0x88, "\x03\xe8"))
	f.Add([]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0})
	// Invalid UTF-8, in one frame and across fragments, and text split
	// inside a character.
	f.Add(maskedFrame(0x81, "4\xed\xa0\x80"))
	f.Add(append(maskedFrame(0x01, "4caf\xc3"), maskedFrame(0x80, "\xa9")...))
	f.Add(append(maskedFrame(0x01, "4\xce\xba\xf4"), maskedFrame(0x80, "\x90\x80\x80")...))
	f.Add(maskedFrame(0x81, "4\xc3"))
	// Close frames: one byte, invalid statuses, an invalid reason.
	f.Add(maskedFrame(0x88, "\x03"))
	f.Add(maskedFrame(0x88, "\x03\xed"))
	f.Add(maskedFrame(0x88, "\x13\x88"))
	f.Add(maskedFrame(0x88, "\x03\xe8\xff\xfe"))
	// A header announcing far more than comes.
	f.Add([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 0x0f, 0x3e, 0x58, 1, 2, 3, 4, 5, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1000
		whole, err1 := parseAll(data, len(data), limit)
		bytewise, err2 := parseAll(data, 1, limit)
		for _, err := range []error{err1, err2} {
			var we *wsError
			if err != nil && !errors.As(err, &we) {
				t.Fatalf("untyped error %v", err)
			}
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("whole: %v, byte by byte: %v", err1, err2)
		}
		if len(whole) != len(bytewise) {
			t.Fatalf("%d frames whole, %d byte by byte", len(whole), len(bytewise))
		}
		for i := range whole {
			if whole[i].op != bytewise[i].op || !bytes.Equal(whole[i].data, bytewise[i].data) {
				t.Fatalf("frame %d differs", i)
			}
			if len(whole[i].data) > limit {
				t.Fatalf("frame of %d bytes", len(whole[i].data))
			}
			switch whole[i].op {
			case opText:
				if !utf8.Valid(whole[i].data) {
					t.Fatalf("text frame %d is not UTF-8", i)
				}
			case opClose:
				var we *wsError
				var ce *wsCloseError
				if err := closeFrameError(whole[i].data); !errors.As(err, &we) && !errors.As(err, &ce) {
					t.Fatalf("close frame: untyped error %v", err)
				}
			}
		}
	})
}
func TestCloseFrameError(t *testing.T) {
	for code := range 0x10000 {
		p := binary.BigEndian.AppendUint16(nil, uint16(code))
		err := closeFrameError(append(p, "bye"...))
		var ce *wsCloseError
		var we *wsError
		valid := code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999
		if valid {
			require.ErrorAs(t, err, &ce, "code %d", code)
			require.Equal(t, code, ce.Code)
			require.Equal(t, "bye", ce.Reason)
		} else {
			require.ErrorAs(t, err, &we, "code %d", code)
			require.Equal(t, closeProtocolError, we.code)
		}
	}
	var we *wsError
	require.ErrorAs(t, closeFrameError([]byte{3}), &we)
	assert.Equal(t, closeProtocolError, we.code)
	require.ErrorAs(t, closeFrameError([]byte("\x03\xe8\xc3")), &we)
	assert.Equal(t, closeInvalidPayload, we.code)
	var ce *wsCloseError
	require.ErrorAs(t, closeFrameError(nil), &ce)
	assert.Equal(t, closeNoStatus, ce.Code)
}

// utf8Completable reports whether some valid UTF-8 text begins with b:
// b is valid, or valid once up to three continuation bytes follow.
func utf8Completable(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	conts := []byte{0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf}
	var try func(b []byte, depth int) bool
	try = func(b []byte, depth int) bool {
		if utf8.Valid(b) {
			return true
		}
		if depth == 0 {
			return false
		}
		for _, c := range conts {
			if try(append(b[:len(b):len(b)], c), depth-1) {
				return true
			}
		}
		return false
	}
	return try(b, 3)
}

// checkUTF8Pieces feeds b to a utf8Check cut at the given points and
// checks it against the standard library: it accepts exactly valid text,
// and fails at the first byte after which no valid text is possible.
func checkUTF8Pieces(t testing.TB, b []byte, cuts ...int) {
	var u utf8Check
	ok, at := true, 0
	for _, c := range append(cuts, len(b)) {
		c = min(max(c, at), len(b))
		if ok = u.check(b[at:c]); !ok {
			break
		}
		at = c
	}
	if ok {
		if u.complete() != utf8.Valid(b) {
			t.Fatalf("%x cut at %v: complete %v, valid %v", b, cuts, u.complete(), utf8.Valid(b))
		}
		if !utf8Completable(b) {
			t.Fatalf("%x cut at %v: accepted, but no valid text begins so", b, cuts)
		}
		return
	}
	if utf8.Valid(b) {
		t.Fatalf("%x cut at %v: refused, but valid", b, cuts)
	}
	// Fail fast: the shortest prefix that no valid text begins with is
	// where a byte-by-byte check fails.
	var v utf8Check
	for i := range b {
		if !v.check(b[i : i+1]) {
			if !utf8Completable(b[:i]) || utf8Completable(b[:i+1]) {
				t.Fatalf("%x: failed at byte %d, which is not the first that no valid text has", b, i)
			}
			return
		}
	}
	t.Fatalf("%x: refused whole, accepted byte by byte", b)
}

func TestUTF8Check(t *testing.T) {
	for _, s := range []string{
		"", "hello", "caf\u00e9", "\u20ac", "\U0001f600", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",
		"\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "01234567\xc3\xa90123456789abcdef\xf0\x9f\x98\x80",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xc3", "\xc3(", "\x80",
		"\xfe", "\xf8\x88\x80\x80\x80", "01234567\xc3", "0123456789abcdef\xed\xa0",
	} {
		for cut := range len(s) + 1 {
			checkUTF8Pieces(t, []byte(s), cut)
		}
	}
	// Every sequence of two bytes, and of three from a leading byte.
	for b0 := range 256 {
		for b1 := range 256 {
			checkUTF8Pieces(t, []byte{byte(b0), byte(b1)})
			if b0 >= 0xe0 && b0 <= 0xf4 {
				for _, b2 := range []byte{0x7f, 0x80, 0xbf, 0xc0} {
					checkUTF8Pieces(t, []byte{byte(b0), byte(b1), b2}, 1)
				}
			}
		}
	}
}

func FuzzUTF8Check(f *testing.F) {
	f.Add([]byte("caf\u00e9 \U0001f600"), 4, 6)
	f.Add([]byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), 12, 13)
	f.Add([]byte("\xf4\x90\x80\x80"), 1, 2)
	f.Add([]byte("abcdefgh\xc3\xa9abcdefgh"), 9, 9)
	f.Fuzz(func(t *testing.T, b []byte, c1, c2 int) {
		checkUTF8Pieces(t, b, c1, c2)
	})
}

// TestWSParserMemory checks the parser allocates as a frame's bytes
// arrive, not as its header announces.
func TestWSParserMemory(t *testing.T) {
	const n = 999000
	p := wsParser{limit: 1e6}
	hdr := []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
	binary.BigEndian.PutUint64(hdr[2:10], n)
	used, _, ok, err := p.next(hdr)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, len(hdr), used)
	require.Zero(t, cap(p.msg), "nothing allocated before data")

	data := make([]byte, 4096)
	got := 0
	for got < n {
		chunk := data[:min(len(data), n-got)]
		used, f, ok, err := p.next(chunk)
		require.NoError(t, err)
		require.Equal(t, len(chunk), used)
		got += used
		if ok {
			require.Equal(t, n, got)
			require.Len(t, f.data, n)
			require.Equal(t, n, cap(f.data), "a whole message's buffer is never larger than it")
			break
		}
		require.LessOrEqual(t, cap(p.msg), max(wsFirstAlloc, 2*got), "after %d bytes", got)
	}

	// A message in 10,000 fragments of 10 bytes: the buffer doubles.
	p = wsParser{limit: 1e6}
	allocs := 0
	for i := range 10000 {
		b0 := byte(opContinuation)
		if i == 0 {
			b0 = opBinary
		}
		if i == 9999 {
			b0 |= 0x80
		}
		was := cap(p.msg)
		f := maskedFrame(b0, "0123456789")
		used, fr, ok, err := p.next(f)
		require.NoError(t, err)
		require.Equal(t, len(f), used)
		if cap(p.msg) != was {
			allocs++
		}
		if ok {
			require.Len(t, fr.data, 100000)
		} else {
			require.LessOrEqual(t, cap(p.msg), max(wsFirstAlloc, 2*len(p.msg)))
		}
	}
	assert.LessOrEqual(t, allocs, 18, "buffer growths: geometric, about log2(100,000/10)")
}

// BenchmarkWSParser measures parsing a client's message: the header,
// unmasking the payload into the message's buffer and, for text, checking
// it is UTF-8.
func BenchmarkWSParser(b *testing.B) {
	for _, bc := range []struct {
		name string
		b0   byte
		data string
	}{
		{"text-12", 0x81, "4hello world"},
		{"text-1KiB", 0x81, "4" + strings.Repeat("abcdefghijklmnop", 64)},
		{"text-1KiB-non-ASCII", 0x81, "4" + strings.Repeat("h\u00e9llo w\u00f6rld \u20ac", 64)},
		{"binary-64KiB", 0x82, strings.Repeat("\xfe\x01", 32<<10)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			frame := maskedFrame(bc.b0, bc.data)
			p := wsParser{limit: 1 << 20}
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				_, f, ok, err := p.next(frame)
				if err != nil || !ok || len(f.data) != len(bc.data) {
					b.Fatal(err, ok)
				}
			}
		})
	}
}
