package jsonx

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
)

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	numberType          = reflect.TypeFor[json.Number]()
	float64Type         = reflect.TypeFor[float64]()
)

// decoder decodes valid JSON into Go values like encoding/json.
type decoder struct {
	b      []byte
	i      int   // the current value starts at b[i] (whitespace skipped)
	err    error // the first *json.UnmarshalTypeError and the like
	strct  reflect.Type
	fields []string
}

// unmarshal is the own json.Unmarshal.
func unmarshal(b []byte, v any) error {
	if err := checkValid(b); err != nil {
		return err
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &json.InvalidUnmarshalError{Type: reflect.TypeOf(v)}
	}
	d := decoder{b: b}
	d.space()
	if err := d.value(rv); err != nil {
		return d.context(err)
	}
	return d.err
}

func (d *decoder) space() {
	for d.i < len(d.b) && isSpace(d.b[d.i]) {
		d.i++
	}
}

// context adds the struct and field being decoded to a type error.
func (d *decoder) context(err error) error {
	if te, ok := err.(*json.UnmarshalTypeError); ok && (d.strct != nil || len(d.fields) > 0) {
		if d.strct != nil {
			te.Struct = d.strct.Name()
		}
		fs := d.fields
		if te.Field != "" {
			fs = append(fs[:len(fs):len(fs)], te.Field)
		}
		te.Field = strings.Join(fs, ".")
	}
	return err
}

func (d *decoder) saveError(err error) {
	if d.err == nil {
		d.err = d.context(err)
	}
}

func (d *decoder) typeError(what string, t reflect.Type, off int) {
	d.saveError(&json.UnmarshalTypeError{Value: what, Type: t, Offset: int64(off)})
}

// next skips the current value and returns it.
func (d *decoder) next() []byte {
	start := d.i
	d.i = skip(d.b, d.i)
	item := d.b[start:d.i]
	d.space()
	return item
}

// value decodes the value at d.i into v, leaving d.i after it and the
// following whitespace.
func (d *decoder) value(v reflect.Value) error {
	if !v.IsValid() {
		d.next()
		return nil
	}
	switch d.b[d.i] {
	case '{':
		return d.object(v)
	case '[':
		return d.array(v)
	}
	off := d.i
	return d.literal(d.next(), v, false, off)
}

// indirect is encoding/json's: it walks down v allocating pointers until a
// non-pointer, stopping at a type with an unmarshal method.
func indirect(v reflect.Value, decodingNull bool) (json.Unmarshaler, encoding.TextUnmarshaler, reflect.Value) {
	v0 := v
	haveAddr := false
	if v.Kind() != reflect.Pointer && v.Type().Name() != "" && v.CanAddr() {
		haveAddr = true
		v = v.Addr()
	}
	for {
		if v.Kind() == reflect.Interface && !v.IsNil() {
			e := v.Elem()
			if e.Kind() == reflect.Pointer && !e.IsNil() && (!decodingNull || e.Elem().Kind() == reflect.Pointer) {
				haveAddr = false
				v = e
				continue
			}
		}
		if v.Kind() != reflect.Pointer {
			break
		}
		if decodingNull && v.CanSet() {
			break
		}
		if e := v.Elem(); e.Kind() == reflect.Interface && !e.IsNil() && e.Elem().Kind() == reflect.Pointer &&
			e.Elem().Pointer() == v.Pointer() {
			v = e // a pointer to an interface holding that same pointer
			break
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if v.Type().NumMethod() > 0 && v.CanInterface() {
			if u, ok := v.Interface().(json.Unmarshaler); ok {
				return u, nil, reflect.Value{}
			}
			if !decodingNull {
				if u, ok := v.Interface().(encoding.TextUnmarshaler); ok {
					return nil, u, reflect.Value{}
				}
			}
		}
		if haveAddr {
			v = v0
			haveAddr = false
		} else {
			v = v.Elem()
		}
	}
	return nil, nil, v
}

func (d *decoder) object(v reflect.Value) error {
	start := d.i
	u, ut, pv := indirect(v, false)
	if u != nil {
		return u.UnmarshalJSON(d.next())
	}
	if ut != nil {
		d.typeError("object", v.Type(), start+1)
		d.next()
		return nil
	}
	v = pv
	t := v.Type()
	if v.Kind() == reflect.Interface && v.NumMethod() == 0 {
		v.Set(reflect.ValueOf(d.anyValue()))
		return nil
	}
	var fields []Field
	switch v.Kind() {
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			if !reflect.PointerTo(t.Key()).Implements(textUnmarshalerType) {
				d.typeError("object", t, start+1)
				d.next()
				return nil
			}
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
	case reflect.Struct:
		fields = Fields(t)
	default:
		d.typeError("object", t, start+1)
		d.next()
		return nil
	}
	var mapElem reflect.Value
	d.i++ // '{'
	d.space()
	for d.b[d.i] != '}' {
		keyStart := d.i
		key := unquote(d.next())
		d.i++ // ':'
		d.space()
		var subv reflect.Value
		destring := false
		origStruct, origFields := d.strct, len(d.fields)
		if v.Kind() == reflect.Map {
			if !mapElem.IsValid() {
				mapElem = reflect.New(t.Elem()).Elem()
			} else {
				mapElem.SetZero()
			}
			subv = mapElem
		} else if f := findField(fields, key); f != nil {
			subv = v
			destring = f.Quoted
			for k, ind := range f.Index {
				if subv.Kind() == reflect.Pointer {
					if subv.IsNil() {
						if !subv.CanSet() {
							d.saveError(errors.New("json: cannot set embedded pointer to unexported struct: " + subv.Type().Elem().String()))
							subv = reflect.Value{}
							destring = false
							break
						}
						subv.Set(reflect.New(subv.Type().Elem()))
					}
					subv = subv.Elem()
				}
				if k < len(f.Index)-1 {
					d.fields = append(d.fields, subv.Type().Field(ind).Name)
				}
				subv = subv.Field(ind)
			}
			d.strct = t
			d.fields = append(d.fields, f.Name)
		}

		if destring {
			off := d.i
			item := d.next()
			switch item[0] {
			case 'n':
				if err := d.literal(item, subv, false, off); err != nil {
					return err
				}
			case '"':
				if err := d.literal(unquote(item), subv, true, off); err != nil {
					return err
				}
			default:
				d.saveError(errors.New("json: invalid use of ,string struct tag, trying to unmarshal unquoted value into " + subv.Type().String()))
			}
		} else if err := d.value(subv); err != nil {
			return err
		}

		if v.Kind() == reflect.Map {
			kt := t.Key()
			var kv reflect.Value
			if reflect.PointerTo(kt).Implements(textUnmarshalerType) {
				kv = reflect.New(kt)
				if err := kv.Interface().(encoding.TextUnmarshaler).UnmarshalText(key); err != nil {
					return err
				}
				kv = kv.Elem()
			} else {
				s := string(key)
				switch kt.Kind() {
				case reflect.String:
					kv = reflect.New(kt).Elem()
					kv.SetString(s)
				case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
					n, err := strconv.ParseInt(s, 10, 64)
					if err != nil || kt.OverflowInt(n) {
						d.typeError("number "+s, kt, keyStart+1)
						break
					}
					kv = reflect.New(kt).Elem()
					kv.SetInt(n)
				default:
					n, err := strconv.ParseUint(s, 10, 64)
					if err != nil || kt.OverflowUint(n) {
						d.typeError("number "+s, kt, keyStart+1)
						break
					}
					kv = reflect.New(kt).Elem()
					kv.SetUint(n)
				}
			}
			if kv.IsValid() {
				v.SetMapIndex(kv, subv)
			}
		}
		d.strct, d.fields = origStruct, d.fields[:origFields]
		if d.b[d.i] == ',' {
			d.i++
			d.space()
		}
	}
	d.i++ // '}'
	d.space()
	return nil
}

// findField returns the field named key, exactly or else case-insensitively.
func findField(fields []Field, key []byte) *Field {
	for i := range fields {
		if fields[i].Name == string(key) {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].Name, string(key)) {
			return &fields[i]
		}
	}
	return nil
}

func (d *decoder) array(v reflect.Value) error {
	start := d.i
	u, ut, pv := indirect(v, false)
	if u != nil {
		return u.UnmarshalJSON(d.next())
	}
	if ut != nil {
		d.typeError("array", v.Type(), start+1)
		d.next()
		return nil
	}
	v = pv
	switch v.Kind() {
	case reflect.Interface:
		if v.NumMethod() == 0 {
			v.Set(reflect.ValueOf(d.anyValue()))
			return nil
		}
		fallthrough
	default:
		d.typeError("array", v.Type(), start+1)
		d.next()
		return nil
	case reflect.Array, reflect.Slice:
	}
	d.i++ // '['
	d.space()
	i := 0
	for d.b[d.i] != ']' {
		if v.Kind() == reflect.Slice {
			if i >= v.Cap() {
				v.Grow(1)
			}
			if i >= v.Len() {
				v.SetLen(i + 1)
			}
		}
		var err error
		if i < v.Len() {
			err = d.value(v.Index(i))
		} else {
			err = d.value(reflect.Value{})
		}
		if err != nil {
			return err
		}
		i++
		if d.b[d.i] == ',' {
			d.i++
			d.space()
		}
	}
	d.i++ // ']'
	d.space()
	if i < v.Len() {
		if v.Kind() == reflect.Array {
			for ; i < v.Len(); i++ {
				v.Index(i).SetZero()
			}
		} else {
			v.SetLen(i)
		}
	}
	if i == 0 && v.Kind() == reflect.Slice {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	return nil
}

// anyValue decodes the value at d.i into the generic values of
// encoding/json: map[string]any, []any, string, float64, bool or nil.
func (d *decoder) anyValue() any {
	switch d.b[d.i] {
	case '{':
		m := make(map[string]any)
		d.i++
		d.space()
		for d.b[d.i] != '}' {
			key := string(unquote(d.next()))
			d.i++ // ':'
			d.space()
			m[key] = d.anyValue()
			if d.b[d.i] == ',' {
				d.i++
				d.space()
			}
		}
		d.i++
		d.space()
		return m
	case '[':
		a := make([]any, 0)
		d.i++
		d.space()
		for d.b[d.i] != ']' {
			a = append(a, d.anyValue())
			if d.b[d.i] == ',' {
				d.i++
				d.space()
			}
		}
		d.i++
		d.space()
		return a
	}
	off := d.i
	item := d.next()
	switch item[0] {
	case 'n':
		return nil
	case 't':
		return true
	case 'f':
		return false
	case '"':
		return string(unquote(item))
	}
	f, err := strconv.ParseFloat(string(item), 64)
	if err != nil {
		d.typeError("number "+string(item), float64Type, off+len(item))
		return nil
	}
	return f
}

// literal stores the literal item (the contents of a string when quoted, for
// the ",string" option) into v like encoding/json's literalStore.
func (d *decoder) literal(item []byte, v reflect.Value, fromQuoted bool, off int) error {
	if len(item) == 0 {
		d.saveError(errors.New("json: invalid use of ,string struct tag, trying to unmarshal \"\" into " + v.Type().String()))
		return nil
	}
	isNull := item[0] == 'n'
	u, ut, pv := indirect(v, isNull)
	if u != nil {
		return u.UnmarshalJSON(item)
	}
	if ut != nil {
		if item[0] != '"' {
			if fromQuoted {
				d.saveError(errors.New("json: invalid use of ,string struct tag, trying to unmarshal " + strconv.Quote(string(item)) + " into " + v.Type().String()))
				return nil
			}
			what := "number"
			switch item[0] {
			case 'n':
				what = "null"
			case 't', 'f':
				what = "bool"
			}
			d.typeError(what, v.Type(), off+len(item))
			return nil
		}
		if !isString(item) { // a quoted value only
			return errors.New("json: invalid use of ,string struct tag, trying to unmarshal " + strconv.Quote(string(item)) + " into " + v.Type().String())
		}
		return ut.UnmarshalText(unquote(item))
	}
	v = pv
	end := off + len(item)
	badQuoted := func() error {
		return errors.New("json: invalid use of ,string struct tag, trying to unmarshal " + strconv.Quote(string(item)) + " into " + v.Type().String())
	}
	switch c := item[0]; c {
	case 'n':
		if fromQuoted && string(item) != "null" {
			d.saveError(badQuoted())
			break
		}
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
		}
	case 't', 'f':
		value := c == 't'
		if fromQuoted && string(item) != "true" && string(item) != "false" {
			d.saveError(badQuoted())
			break
		}
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(value)
		case reflect.Interface:
			if v.NumMethod() == 0 {
				v.Set(reflect.ValueOf(value))
				break
			}
			d.typeError("bool", v.Type(), end)
		default:
			if fromQuoted {
				d.saveError(badQuoted())
			} else {
				d.typeError("bool", v.Type(), end)
			}
		}
	case '"':
		if !isString(item) { // a quoted value only
			return badQuoted()
		}
		s := unquote(item)
		switch v.Kind() {
		case reflect.Slice:
			if v.Type().Elem().Kind() != reflect.Uint8 {
				d.typeError("string", v.Type(), end)
				break
			}
			b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
			n, err := base64.StdEncoding.Decode(b, s)
			if err != nil {
				d.saveError(err)
				break
			}
			v.SetBytes(b[:n])
		case reflect.String:
			t := string(s)
			if v.Type() == numberType && !isValidNumber(t) {
				return errors.New("json: invalid number literal, trying to unmarshal " + strconv.Quote(string(item)) + " into Number")
			}
			v.SetString(t)
		case reflect.Interface:
			if v.NumMethod() == 0 {
				v.Set(reflect.ValueOf(string(s)))
				break
			}
			d.typeError("string", v.Type(), end)
		default:
			d.typeError("string", v.Type(), end)
		}
	default: // a number
		if c != '-' && (c < '0' || c > '9') {
			return badQuoted() // only a quoted value can get here
		}
		s := string(item)
		switch v.Kind() {
		case reflect.Interface:
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				d.typeError("number "+s, float64Type, end)
				break
			}
			if v.NumMethod() != 0 {
				d.typeError("number", v.Type(), end)
				break
			}
			v.Set(reflect.ValueOf(f))
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v.OverflowInt(n) {
				d.typeError("number "+s, v.Type(), end)
				break
			}
			v.SetInt(n)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil || v.OverflowUint(n) {
				d.typeError("number "+s, v.Type(), end)
				break
			}
			v.SetUint(n)
		case reflect.Float32, reflect.Float64:
			n, err := strconv.ParseFloat(s, v.Type().Bits())
			if err != nil || v.OverflowFloat(n) {
				d.typeError("number "+s, v.Type(), end)
				break
			}
			v.SetFloat(n)
		default:
			if v.Kind() == reflect.String && v.Type() == numberType {
				v.SetString(s)
				break
			}
			if fromQuoted {
				return badQuoted()
			}
			d.typeError("number", v.Type(), end)
		}
	}
	return nil
}

// isString reports whether item is one valid JSON string literal.
func isString(item []byte) bool {
	return len(item) >= 2 && item[0] == '"' && checkValid(item) == nil
}

// isValidNumber reports whether s is a JSON number literal.
func isValidNumber(s string) bool {
	if s == "" || s[0] != '-' && !isDigit(s[0]) {
		return false
	}
	sc := scanner{b: []byte(s)}
	return sc.number() == nil && sc.i == len(s)
}
