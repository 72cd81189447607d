package mpack

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// rawExt is what msgpack/v5 decodes an extension into in these tests.
type rawExt struct {
	Type int8
	Data []byte
}

// msgpack/v5 refuses to decode extensions it does not know into an
// interface{}; teach it every type but the timestamp, which it knows.
func init() {
	for id := math.MinInt8; id <= math.MaxInt8; id++ {
		if id == timestampExt {
			continue
		}
		msgpack.RegisterExtDecoder(int8(id), rawExt{}, func(d *msgpack.Decoder, v reflect.Value, n int) error {
			b := make([]byte, n)
			if err := d.ReadFull(b); err != nil {
				return err
			}
			v.Set(reflect.ValueOf(rawExt{Type: int8(id), Data: b}))
			return nil
		})
	}
}

// pair is a map entry as decodeV5 returns it: msgpack allows keys of any
// type, which no Go map would hold.
type pair struct{ K, V any }

// decodeV5 decodes a frame — one that a Walker accepted, never other bytes —
// with msgpack/v5's generic decoder and reports how many bytes it read.
func decodeV5(frame []byte) (v any, n int, err error) {
	r := bytes.NewReader(frame)
	d := msgpack.NewDecoder(r)
	d.SetMapDecoder(func(d *msgpack.Decoder) (any, error) {
		n, err := d.DecodeMapLen()
		if err != nil || n < 0 {
			return nil, err
		}
		var m []pair
		for range n {
			k, err := d.DecodeInterface()
			if err != nil {
				return nil, err
			}
			v, err := d.DecodeInterface()
			if err != nil {
				return nil, err
			}
			m = append(m, pair{k, v})
		}
		return m, nil
	})
	v, err = d.DecodeInterface()
	return v, len(frame) - r.Len(), err
}

// readValue decodes one object with this package's readers, into the
// canonical form of [canon].
func readValue(b []byte) (any, []byte, error) {
	switch NextType(b) {
	case NilType:
		rest, err := ReadNil(b)
		return nil, rest, err
	case BoolType:
		return ReadBool(b)
	case IntType, UintType:
		if v, rest, err := ReadInt(b); err == nil {
			return canon(v), rest, nil
		}
		v, rest, err := ReadUint(b)
		return canon(v), rest, err
	case FloatType:
		return ReadFloat64(b)
	case StrType:
		s, rest, err := ReadStr(b)
		return string(s), rest, err
	case BinType:
		v, rest, err := ReadBin(b)
		return append([]byte{}, v...), rest, err
	case ExtType:
		typ, data, rest, err := ReadExt(b)
		return rawExt{typ, append([]byte{}, data...)}, rest, err
	case ArrayType:
		n, rest, err := ReadArrayHeader(b)
		if err != nil {
			return nil, b, err
		}
		a := []any{}
		for range n {
			var v any
			if v, rest, err = readValue(rest); err != nil {
				return nil, b, err
			}
			a = append(a, v)
		}
		return a, rest, nil
	case MapType:
		n, rest, err := ReadMapHeader(b)
		if err != nil {
			return nil, b, err
		}
		m := []pair{}
		for range n {
			var k, v any
			if k, rest, err = readValue(rest); err != nil {
				return nil, b, err
			}
			if v, rest, err = readValue(rest); err != nil {
				return nil, b, err
			}
			m = append(m, pair{k, v})
		}
		return m, rest, nil
	}
	_, rest, err := ReadBool(b) // an invalid byte: let a reader say so
	return nil, rest, err
}

// floatBits is a float in canonical form.
type floatBits uint64

// canon maps the values of msgpack/v5, of readValue and of randValue onto
// one form, so that they compare with reflect.DeepEqual: integers as int64
// when negative else uint64, floats as the bits of a float64, maps as
// []pair, arrays as []any.
func canon(v any) any {
	switch v := v.(type) {
	case int8:
		return canon(int64(v))
	case int16:
		return canon(int64(v))
	case int32:
		return canon(int64(v))
	case int:
		return canon(int64(v))
	case int64:
		if v >= 0 {
			return uint64(v)
		}
		return v
	case uint8:
		return uint64(v)
	case uint16:
		return uint64(v)
	case uint32:
		return uint64(v)
	case uint:
		return uint64(v)
	case float32:
		return canon(float64(v))
	case float64:
		return floatBits(math.Float64bits(v)) // NaN equals NaN
	case []any:
		a := make([]any, len(v))
		for i := range v {
			a[i] = canon(v[i])
		}
		return a
	case []pair:
		m := make([]pair, len(v))
		for i := range v {
			m[i] = pair{canon(v[i].K), canon(v[i].V)}
		}
		return m
	case []byte:
		return append([]byte{}, v...)
	}
	return v
}

// checkAccepted checks a frame a Walker accepted: msgpack/v5 decodes it
// without error and reads it all, Skip and the readers agree on its
// length, and the readers decode what msgpack/v5 decodes.
func checkAccepted(t testing.TB, frame []byte) {
	t.Helper()
	v5, n, err := decodeV5(frame)
	if err != nil || n != len(frame) {
		t.Fatalf("msgpack/v5: got %d bytes, %v, want %d bytes, no error: % x", n, err, len(frame), frame)
	}
	rest, err := Skip(frame)
	if err != nil || len(rest) != 0 {
		t.Fatalf("Skip: got %d bytes left, %v, want 0: % x", len(rest), err, frame)
	}
	mine, rest, err := readValue(frame)
	if err != nil || len(rest) != 0 {
		t.Fatalf("readers: got %d bytes left, %v, want 0: % x", len(rest), err, frame)
	}
	if hasTimestamp(frame) {
		return // msgpack/v5 gives a time.Time
	}
	if got, want := canon(mine), canon(v5); !reflect.DeepEqual(got, want) {
		t.Fatalf("readers got %#v, msgpack/v5 %#v: % x", got, want, frame)
	}
}

// hasTimestamp reports whether a frame holds a timestamp extension.
func hasTimestamp(b []byte) bool {
	for pending := 1; pending > 0; pending-- {
		switch NextType(b) {
		case ExtType:
			typ, _, rest, _ := ReadExt(b)
			if typ == timestampExt {
				return true
			}
			b = rest
		case ArrayType:
			n, rest, _ := ReadArrayHeader(b)
			pending, b = pending+n, rest
		case MapType:
			n, rest, _ := ReadMapHeader(b)
			pending, b = pending+2*n, rest
		default:
			b, _ = Skip(b)
		}
	}
	return false
}
