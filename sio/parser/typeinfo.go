package parser

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/gosio/socketio/sio/internal/sortx"
)

var (
	valueType           = reflect.TypeFor[Value]()
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroerType        = reflect.TypeFor[interface{ IsZero() bool }]()
)

// Type caches. They only ever grow with the set of types a program uses.
var (
	walkCache   sync.Map // reflect.Type -> bool, see needsWalk
	decodeCache sync.Map // reflect.Type -> decodeInfo, see decodeInfoOf
	fieldsCache sync.Map // reflect.Type -> []field, see structFields
)

// needsWalk reports whether a value of type t may hold binary data, a
// Value, or an interface (which may hold either): such values are encoded by
// walking them; all others are handed to encoding/json directly.
func needsWalk(t reflect.Type) bool {
	if v, ok := walkCache.Load(t); ok {
		return v.(bool)
	}
	// Results computed while a recursive type is in progress may be partial,
	// so only the root's result is cached.
	r := containsWalk(t, map[reflect.Type]bool{})
	walkCache.Store(t, r)
	return r
}

func containsWalk(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch {
	case t == valueType:
		return true
	case isMarshaler(t):
		return false
	case isByteSlice(t):
		return true
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return containsWalk(t.Elem(), seen)
	case reflect.Struct:
		for _, f := range structFields(t) {
			if containsWalk(f.typ, seen) {
				return true
			}
		}
	}
	return false
}

// isMarshaler reports whether encoding/json may hand values of type t to a
// marshal method of their own.
func isMarshaler(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer {
		p := reflect.PointerTo(t)
		if p.Implements(marshalerType) || p.Implements(textMarshalerType) {
			return true
		}
	}
	return t.Implements(marshalerType) || t.Implements(textMarshalerType)
}

// isByteSlice reports whether encoding/json encodes type t as a base64
// string, which this package sends as an attachment instead.
func isByteSlice(t reflect.Type) bool {
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Uint8 {
		return false
	}
	p := reflect.PointerTo(t.Elem())
	return !p.Implements(marshalerType) && !p.Implements(textMarshalerType)
}

// decodeInfo tells how Value.Decode handles placeholders for a type.
type decodeInfo struct {
	// fill: values of the type may hold an empty interface, a []byte or a
	// string that encoding/json fills from a placeholder, which fill must
	// then set from the attachment.
	fill bool
	// custom: values of the type may hold a type decoding itself (with
	// UnmarshalJSON or UnmarshalText), which must see placeholders as base64
	// strings like encoding/json encodes []byte.
	custom bool
}

// decodeInfoOf returns the decodeInfo of type t.
func decodeInfoOf(t reflect.Type) decodeInfo {
	if v, ok := decodeCache.Load(t); ok {
		return v.(decodeInfo)
	}
	var di decodeInfo
	walkDecode(t, map[reflect.Type]bool{}, &di)
	decodeCache.Store(t, di)
	return di
}

// fillable reports whether fill has work to do in values of type t.
func fillable(t reflect.Type) bool { return decodeInfoOf(t).fill }

func walkDecode(t reflect.Type, seen map[reflect.Type]bool, di *decodeInfo) {
	if seen[t] {
		return
	}
	seen[t] = true
	if isUnmarshaler(t) {
		di.custom = true
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		di.fill = di.fill || t.NumMethod() == 0
	case reflect.String:
		di.fill = true
	case reflect.Slice:
		if isByteSlice(t) {
			di.fill = true
			return
		}
		walkDecode(t.Elem(), seen, di)
	case reflect.Pointer, reflect.Array, reflect.Map:
		walkDecode(t.Elem(), seen, di)
	case reflect.Struct:
		for _, f := range structFields(t) {
			walkDecode(f.typ, seen, di)
		}
	}
}

// isUnmarshaler reports whether encoding/json hands values of type t to an
// unmarshal method of their own.
func isUnmarshaler(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer {
		t = reflect.PointerTo(t)
	}
	return t.Implements(unmarshalerType) || t.Implements(textUnmarshalerType)
}

// field is a struct field as encoding/json sees it.
type field struct {
	name      string
	key       []byte // the JSON-encoded name followed by ':'
	index     []int
	typ       reflect.Type
	tagged    bool
	omitEmpty bool
	omitZero  bool
	quoted    bool
}

// structFields returns the fields encoding/json encodes for struct type t,
// in order: exported fields and the promoted fields of embedded structs,
// honoring the json tag (name, "-", omitempty, omitzero, string) and the
// rules of encoding/json for conflicting names.
func structFields(t reflect.Type) []field {
	if v, ok := fieldsCache.Load(t); ok {
		return v.([]field)
	}
	fs := typeFields(t)
	v, _ := fieldsCache.LoadOrStore(t, fs)
	return v.([]field)
}

func typeFields(t reflect.Type) []field {
	type level struct {
		typ   reflect.Type
		index []int
	}
	var fields []field
	next := []level{{typ: t}}
	visited := map[reflect.Type]bool{}
	count := map[reflect.Type]int{}
	for len(next) > 0 {
		current := next
		next = nil
		nextCount := map[reflect.Type]int{}
		for _, lv := range current {
			if visited[lv.typ] {
				continue
			}
			visited[lv.typ] = true
			for i := range lv.typ.NumField() {
				sf := lv.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					// An unexported embedded struct may still promote
					// exported fields; other unexported embeddings are
					// invisible.
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := append(slices.Clip(lv.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := field{
						name:      name,
						index:     index,
						typ:       sf.Type,
						tagged:    name != "",
						omitEmpty: hasOption(opts, "omitempty"),
						omitZero:  hasOption(opts, "omitzero"),
					}
					if f.name == "" {
						f.name = sf.Name
					}
					if hasOption(opts, "string") {
						switch ft.Kind() {
						case reflect.Bool, reflect.String,
							reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64:
							f.quoted = true
						}
					}
					f.key = append(appendString(nil, f.name), ':')
					fields = append(fields, f)
					if count[lv.typ] > 1 {
						// The same struct embedded twice at this depth:
						// record a duplicate so that the name conflicts.
						fields = append(fields, f)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, level{typ: ft, index: index})
				}
			}
		}
		count = nextCount
	}

	// Among fields of the same name the shallowest wins, a tagged one
	// winning a tie; an unresolved tie drops the name altogether.
	sortx.Func(len(fields), func(i, j int) bool {
		a, b := &fields[i], &fields[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if len(a.index) != len(b.index) {
			return len(a.index) < len(b.index)
		}
		if a.tagged != b.tagged {
			return a.tagged
		}
		return compareIndex(a.index, b.index) < 0
	}, func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		group := fields[i:j]
		if len(group) == 1 || len(group[0].index) < len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	sortx.Func(len(out), func(i, j int) bool { return compareIndex(out[i].index, out[j].index) < 0 },
		func(i, j int) { out[i], out[j] = out[j], out[i] })
	return slices.Clip(out)
}

// compareIndex compares two field index sequences like slices.Compare.
func compareIndex(a, b []int) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

// validTagName reports whether encoding/json accepts name as a field name.
func validTagName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// hasOption reports whether the comma-separated tag options contain opt.
func hasOption(opts, opt string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == opt {
			return true
		}
	}
	return false
}
