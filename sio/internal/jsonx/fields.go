package jsonx

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/gosio/socketio/sio/internal/jsonstr"
	"github.com/gosio/socketio/sio/internal/sortx"
)

var fieldsCache sync.Map // reflect.Type -> []Field, see Fields

// Field is a struct field as encoding/json sees it.
type Field struct {
	Name      string
	Key       []byte // the JSON-encoded name followed by ':'
	Index     []int
	Type      reflect.Type
	Tagged    bool
	OmitEmpty bool
	OmitZero  bool
	Quoted    bool // the "string" option, on a scalar field
}

// Fields returns the fields encoding/json encodes for struct type t,
// in order: exported fields and the promoted fields of embedded structs,
// honoring the json tag (name, "-", omitempty, omitzero, string) and the
// rules of encoding/json for conflicting names.
func Fields(t reflect.Type) []Field {
	if v, ok := fieldsCache.Load(t); ok {
		return v.([]Field)
	}
	fs := typeFields(t)
	v, _ := fieldsCache.LoadOrStore(t, fs)
	return v.([]Field)
}

func typeFields(t reflect.Type) []Field {
	type level struct {
		typ   reflect.Type
		index []int
	}
	var fields []Field
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
					f := Field{
						Name:      name,
						Index:     index,
						Type:      sf.Type,
						Tagged:    name != "",
						OmitEmpty: hasOption(opts, "omitempty"),
						OmitZero:  hasOption(opts, "omitzero"),
					}
					if f.Name == "" {
						f.Name = sf.Name
					}
					if hasOption(opts, "string") {
						switch ft.Kind() {
						case reflect.Bool, reflect.String,
							reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64:
							f.Quoted = true
						}
					}
					f.Key = append(jsonstr.Append(nil, f.Name), ':')
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
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if len(a.Index) != len(b.Index) {
			return len(a.Index) < len(b.Index)
		}
		if a.Tagged != b.Tagged {
			return a.Tagged
		}
		return compareIndex(a.Index, b.Index) < 0
	}, func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].Name == fields[i].Name {
			j++
		}
		group := fields[i:j]
		if len(group) == 1 || len(group[0].Index) < len(group[1].Index) || group[0].Tagged != group[1].Tagged {
			out = append(out, group[0])
		}
		i = j
	}
	sortx.Func(len(out), func(i, j int) bool { return compareIndex(out[i].Index, out[j].Index) < 0 },
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
