package jsval

import (
	"strconv"
)

// FromPacketData returns the value of Socket.IO arguments: the JSON text
// data with each placeholder {"_placeholder":true,"num":N} replaced by
// attachment N, as socket.io-parser reconstructs a packet. Without
// attachments, placeholders are ordinary objects (as for a packet that is
// not binary); a placeholder whose num points at no attachment stays an
// object too.
func FromPacketData(data []byte, atts [][]byte) (any, error) {
	v, err := ParseJSON(data)
	if err != nil || len(atts) == 0 {
		return v, err
	}
	return substitute(v, atts), nil
}

func substitute(v any, atts [][]byte) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = substitute(x[i], atts)
		}
	case *Object:
		if p, ok := x.Get("_placeholder"); ok && p == true {
			if n, ok := x.Get("num"); ok {
				if f, ok := n.(float64); ok && f >= 0 && f < float64(len(atts)) && f == float64(int(f)) {
					return atts[int(f)]
				}
			}
			return x
		}
		for i := range x.Vals {
			x.Vals[i] = substitute(x.Vals[i], atts)
		}
	}
	return v
}

// ToPacketData returns the Socket.IO form of v: JSON text in which every
// Buffer is replaced by a placeholder numbered in the order
// socket.io-parser deconstructs a packet (depth first), and the Buffers.
func ToPacketData(v any) (data []byte, atts [][]byte) {
	return appendPacketJSON(nil, v, &atts), atts
}

// AppendPacketJSON appends the Socket.IO form of v (see ToPacketData),
// numbering its placeholders after the attachments already in *atts, to
// which it appends.
func AppendPacketJSON(dst []byte, v any, atts *[][]byte) []byte {
	return appendPacketJSON(dst, v, atts)
}

func appendPacketJSON(dst []byte, v any, atts *[][]byte) []byte {
	switch x := v.(type) {
	case []byte:
		dst = append(dst, `{"_placeholder":true,"num":`...)
		dst = strconv.AppendInt(dst, int64(len(*atts)), 10)
		*atts = append(*atts, x)
		return append(dst, '}')
	case []any:
		dst = append(dst, '[')
		for i, el := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendPacketJSON(dst, el, atts)
		}
		return append(dst, ']')
	case *Object:
		dst = append(dst, '{')
		for i, k := range x.Keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, k)
			dst = append(dst, ':')
			dst = appendPacketJSON(dst, x.Vals[i], atts)
		}
		return append(dst, '}')
	}
	return AppendJSON(dst, v)
}
