package mpack

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// writeTests: what each writer appends, and the Go value msgpack/v5
// encodes the same way (nil when it does not compare: its float32
// encoding of float64 and such).
var writeTests = []struct {
	name string
	got  []byte
	want string
	v5   any
}{
	{"nil", AppendNil(nil), "\xc0", nil},
	{"true", AppendBool(nil, true), "\xc3", true},
	{"false", AppendBool(nil, false), "\xc2", false},
	{"uint 0", AppendUint(nil, 0), "\x00", uint64(0)},
	{"uint 127", AppendUint(nil, 127), "\x7f", uint64(127)},
	{"uint 128", AppendUint(nil, 128), "\xcc\x80", uint64(128)},
	{"uint 255", AppendUint(nil, 255), "\xcc\xff", uint64(255)},
	{"uint 256", AppendUint(nil, 256), "\xcd\x01\x00", uint64(256)},
	{"uint 65535", AppendUint(nil, 65535), "\xcd\xff\xff", uint64(65535)},
	{"uint 65536", AppendUint(nil, 65536), "\xce\x00\x01\x00\x00", uint64(65536)},
	{"uint max32", AppendUint(nil, math.MaxUint32), "\xce\xff\xff\xff\xff", uint64(math.MaxUint32)},
	{"uint max32+1", AppendUint(nil, math.MaxUint32+1), "\xcf\x00\x00\x00\x01\x00\x00\x00\x00", uint64(math.MaxUint32 + 1)},
	{"uint max64", AppendUint(nil, math.MaxUint64), "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", uint64(math.MaxUint64)},
	{"int 0", AppendInt(nil, 0), "\x00", int64(0)},
	{"int 200", AppendInt(nil, 200), "\xcc\xc8", int64(200)},
	{"int -1", AppendInt(nil, -1), "\xff", int64(-1)},
	{"int -32", AppendInt(nil, -32), "\xe0", int64(-32)},
	{"int -33", AppendInt(nil, -33), "\xd0\xdf", int64(-33)},
	{"int -128", AppendInt(nil, -128), "\xd0\x80", int64(-128)},
	{"int -129", AppendInt(nil, -129), "\xd1\xff\x7f", int64(-129)},
	{"int -32768", AppendInt(nil, -32768), "\xd1\x80\x00", int64(-32768)},
	{"int -32769", AppendInt(nil, -32769), "\xd2\xff\xff\x7f\xff", int64(-32769)},
	{"int min32", AppendInt(nil, math.MinInt32), "\xd2\x80\x00\x00\x00", int64(math.MinInt32)},
	{"int min32-1", AppendInt(nil, math.MinInt32-1), "\xd3\xff\xff\xff\xff\x7f\xff\xff\xff", int64(math.MinInt32 - 1)},
	{"int min64", AppendInt(nil, math.MinInt64), "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", int64(math.MinInt64)},
	{"int max64", AppendInt(nil, math.MaxInt64), "\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", int64(math.MaxInt64)},
	{"float64", AppendFloat64(nil, 1.5), "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", 1.5},
	{"float64 0", AppendFloat64(nil, 0), "\xcb\x00\x00\x00\x00\x00\x00\x00\x00", 0.0},
	{"float32", AppendFloat32(nil, 1.5), "\xca\x3f\xc0\x00\x00", float32(1.5)},
	{"str empty", AppendStr(nil, ""), "\xa0", ""},
	{"str 31", AppendStr(nil, strings.Repeat("s", 31)), "\xbf" + strings.Repeat("s", 31), strings.Repeat("s", 31)},
	{"str 32", AppendStr(nil, strings.Repeat("s", 32)), "\xd9\x20" + strings.Repeat("s", 32), strings.Repeat("s", 32)},
	{"str 255", AppendStr(nil, strings.Repeat("s", 255)), "\xd9\xff" + strings.Repeat("s", 255), strings.Repeat("s", 255)},
	{"str 256", AppendStr(nil, strings.Repeat("s", 256)), "\xda\x01\x00" + strings.Repeat("s", 256), strings.Repeat("s", 256)},
	{"str 65536", AppendStr(nil, strings.Repeat("s", 65536)), "\xdb\x00\x01\x00\x00" + strings.Repeat("s", 65536), strings.Repeat("s", 65536)},
	{"str bytes", AppendStrBytes(nil, []byte("hello")), "\xa5hello", "hello"},
	{"bin empty", AppendBin(nil, nil), "\xc4\x00", []byte{}},
	{"bin 3", AppendBin(nil, []byte("abc")), "\xc4\x03abc", []byte("abc")},
	{"bin 256", AppendBin(nil, make([]byte, 256)), "\xc5\x01\x00" + strings.Repeat("\x00", 256), make([]byte, 256)},
	{"bin 65536", AppendBin(nil, make([]byte, 65536)), "\xc6\x00\x01\x00\x00" + strings.Repeat("\x00", 65536), make([]byte, 65536)},
	{"ext 1", AppendExt(nil, 5, []byte{1}), "\xd4\x05\x01", nil},
	{"ext 2", AppendExt(nil, 5, []byte{1, 2}), "\xd5\x05\x01\x02", nil},
	{"ext 3", AppendExt(nil, -5, []byte{1, 2, 3}), "\xc7\x03\xfb\x01\x02\x03", nil},
	{"ext 4", AppendExt(nil, 5, []byte{1, 2, 3, 4}), "\xd6\x05\x01\x02\x03\x04", nil},
	{"ext 8", AppendExt(nil, 5, make([]byte, 8)), "\xd7\x05" + strings.Repeat("\x00", 8), nil},
	{"ext 16", AppendExt(nil, 5, make([]byte, 16)), "\xd8\x05" + strings.Repeat("\x00", 16), nil},
	{"ext 0", AppendExt(nil, 5, nil), "\xc7\x00\x05", nil},
	{"ext 256", AppendExt(nil, 5, make([]byte, 256)), "\xc8\x01\x00\x05" + strings.Repeat("\x00", 256), nil},
	{"array 0", AppendArrayHeader(nil, 0), "\x90", []int{}},
	{"array 15", AppendArrayHeader(nil, 15), "\x9f", nil},
	{"array 16", AppendArrayHeader(nil, 16), "\xdc\x00\x10", nil},
	{"array 65535", AppendArrayHeader(nil, 65535), "\xdc\xff\xff", nil},
	{"array 65536", AppendArrayHeader(nil, 65536), "\xdd\x00\x01\x00\x00", nil},
	{"map 0", AppendMapHeader(nil, 0), "\x80", map[string]int{}},
	{"map 15", AppendMapHeader(nil, 15), "\x8f", nil},
	{"map 16", AppendMapHeader(nil, 16), "\xde\x00\x10", nil},
	{"map max", AppendMapHeader(nil, math.MaxUint32), "\xdf\xff\xff\xff\xff", nil},
	{"rpc request", AppendArrayHeader(AppendStr(AppendUint(AppendUint(AppendArrayHeader(nil, 4), 0), 1), "echo"), 1),
		"\x94\x00\x01\xa4echo\x91", nil},
}

// TestAppend: each writer's bytes, which are msgpack/v5's bytes for the
// same value.
func TestAppend(t *testing.T) {
	for _, tt := range writeTests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
			if tt.v5 == nil {
				return
			}
			b, err := marshalV5(tt.v5)
			if err != nil || string(b) != tt.want {
				t.Fatalf("msgpack/v5: got %q, %v, want %q", b, err, tt.want)
			}
		})
	}
}

// marshalV5 encodes v with msgpack/v5, integers in their smallest form.
func marshalV5(v any) ([]byte, error) {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	e.UseCompactInts(true)
	err := e.Encode(v)
	return buf.Bytes(), err
}

// TestAppendKeepsDst: writers append after what dst holds.
func TestAppendKeepsDst(t *testing.T) {
	dst := []byte("x")
	got := AppendStr(AppendInt(dst, -1), "a")
	if want := "x\xff\xa1a"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// appendValue writes a value of randValue with this package's writers.
func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return AppendNil(dst)
	case bool:
		return AppendBool(dst, v)
	case int64:
		return AppendInt(dst, v)
	case uint64:
		return AppendUint(dst, v)
	case float64:
		return AppendFloat64(dst, v)
	case float32:
		return AppendFloat32(dst, v)
	case string:
		return AppendStr(dst, v)
	case []byte:
		return AppendBin(dst, v)
	case rawExt:
		return AppendExt(dst, v.Type, v.Data)
	case []any:
		dst = AppendArrayHeader(dst, uint32(len(v)))
		for _, e := range v {
			dst = appendValue(dst, e)
		}
		return dst
	case []pair:
		dst = AppendMapHeader(dst, uint32(len(v)))
		for _, p := range v {
			dst = appendValue(appendValue(dst, p.K), p.V)
		}
		return dst
	}
	panic("appendValue: unexpected type")
}

// randValue returns a random value of at most depth levels of nesting.
func randValue(r *rand.Rand, depth int) any {
	sizes := []int{0, 1, 2, 15, 16, 31, 32, 255, 256, 300, 65535, 65536, 70000}
	size := func() int {
		if r.IntN(20) == 0 {
			return sizes[r.IntN(len(sizes))]
		}
		return r.IntN(40)
	}
	kinds := 12
	if depth <= 0 {
		kinds = 10
	}
	switch r.IntN(kinds) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return int64(r.Uint64()) >> r.IntN(64)
	case 3:
		return r.Uint64() >> r.IntN(65)
	case 4:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
	case 5:
		return float32(r.NormFloat64())
	case 6:
		return strings.Repeat("é", size()/2) + strings.Repeat("s", size()%2)
	case 7:
		b := make([]byte, size())
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case 8:
		b := make([]byte, size()%20)
		return rawExt{int8(r.IntN(128)), b} // not -1: msgpack/v5 would decode a time
	case 9:
		return r.Uint64() & 0x7f
	case 10:
		if r.IntN(100) == 0 { // a large array of scalars, for array16/32
			a := make([]any, []int{16, 65535, 65536}[r.IntN(3)])
			for i := range a {
				a[i] = []any{nil, true, uint64(7), int64(-3)}[r.IntN(4)]
			}
			return a
		}
		a := make([]any, r.IntN(18))
		for i := range a {
			a[i] = randValue(r, depth-1-r.IntN(2))
		}
		return a
	default:
		m := make([]pair, r.IntN(18))
		for i := range m {
			m[i] = pair{randValue(r, depth-1-r.IntN(3)), randValue(r, depth-1-r.IntN(2))}
		}
		return m
	}
}

// toV5 turns a randValue into what msgpack/v5 encodes the same way, when
// it has no map with keys other than strings (which no Go map holds in
// order); ok reports that.
func toV5(v any) (w any, ok bool) {
	switch v := v.(type) {
	case rawExt:
		return nil, false
	case []any:
		a := make([]any, len(v))
		for i := range v {
			if a[i], ok = toV5(v[i]); !ok {
				return nil, false
			}
		}
		return a, true
	case []pair:
		if len(v) > 1 {
			return nil, false // Go maps have no order
		}
		m := map[string]any{}
		for _, p := range v {
			k, isStr := p.K.(string)
			if !isStr {
				return nil, false
			}
			if m[k], ok = toV5(p.V); !ok {
				return nil, false
			}
		}
		return m, true
	}
	return v, true
}

// TestRoundTrip: random nested values written with this package's writers
// and, where it can, msgpack/v5's encoder, give the same bytes; a Walker
// accepts them with their exact length, and msgpack/v5 and the readers
// decode the value written.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lim := Limits{MaxFrame: MaxFrameLimit, MaxDepth: 64}
	for i := range 1000 {
		v := randValue(r, r.IntN(8))
		b := appendValue(nil, v)
		tail := append(b[:len(b):len(b)], 0xc1)
		if n, err := Walk(tail, lim); err != nil || n != len(b) {
			t.Fatalf("value %d: got %q, want %q", i, walkOutcome(n, err), walkOutcome(len(b), nil))
		}
		checkAccepted(t, b)
		got, _, _ := readValue(b)
		if !reflect.DeepEqual(canon(got), canon(v)) {
			t.Fatalf("value %d: got %#v, want %#v", i, canon(got), canon(v))
		}
		if w, ok := toV5(v); ok {
			b5, err := marshalV5(w)
			if err != nil {
				t.Fatalf("value %d: msgpack/v5: %v", i, err)
			}
			if n, err := Walk(b5, lim); err != nil || n != len(b5) {
				t.Fatalf("value %d, msgpack/v5: got %q, want %q", i, walkOutcome(n, err), walkOutcome(len(b5), nil))
			}
			if !bytes.Equal(b5, b) {
				t.Fatalf("value %d: got %q, msgpack/v5 %q", i, b, b5)
			}
		}
	}
}

// TestRoundTripV5Maps: maps msgpack/v5 encodes, with any number of keys,
// are walked with their length.
func TestRoundTripV5Maps(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		m := map[string]any{}
		for range r.IntN(40) {
			k := strings.Repeat("k", r.IntN(40))
			m[k], _ = toV5(randValue(r, 2))
			if m[k] == nil {
				m[k] = []any{"x", int64(-7), map[string]any{"y": []byte("z")}}
			}
		}
		b, err := msgpack.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := Walk(b, Limits{MaxFrame: MaxFrameLimit}); err != nil || n != len(b) {
			t.Fatalf("map %d: got %q, want %q", i, walkOutcome(n, err), walkOutcome(len(b), nil))
		}
		checkAccepted(t, b)
	}
}
