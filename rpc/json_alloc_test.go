//go:build !race

package rpc

import (
	"runtime"
	"strings"
	"testing"
)

// zerosBody is a JSON array of zeros, n bytes long or one more.
func zerosBody(n int) []byte {
	return []byte("[" + strings.Repeat("0,", n/2-1) + "0]")
}

// objectsBody is a JSON array of small objects, about n bytes long.
func objectsBody(n int) []byte {
	const o = `{"id":12345,"name":"widget","ok":true},`
	return []byte("[" + strings.Repeat(o, n/len(o)-1) + o[:len(o)-1] + "]")
}

// Issue 9: JSON params were decoded into a tree of any before they became
// msgpack, 20 to 56 times the body in allocations (a 4 MiB array of zeros:
// 234 MB, 2.1 million allocations). The converter allocates its output.
func TestJSONToMsgpackMemory(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
	}{{"zeros", zerosBody(4 << 20)}, {"objects", objectsBody(4 << 20)}} {
		t.Run(tc.name, func(t *testing.T) {
			var c jsonConverter
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, err := c.appendMsgpack(nil, tc.body, maxJSONParams)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*uint64(len(tc.body)) {
				t.Errorf("%d bytes allocated for %d bytes of JSON (%d of msgpack), want at most 4 times the body", alloc, len(tc.body), len(out))
			}
		})
	}
}

// With its buffers grown, the converter allocates nothing: not for the
// hash index of a large object, nor for a float, nor for an escape.
func TestJSONToMsgpackDoesNotAllocate(t *testing.T) {
	body := []byte(`[` + jsonObject(40, `{"a":[1.5,-2e3,"\u00e9\n","x"],"b":null}`) + `,18446744073709551615,"\ud83d\ude00\ud800"]`)
	var c jsonConverter
	var dst []byte
	convert := func() {
		var err error
		if dst, err = c.appendMsgpack(dst[:0], body, maxJSONParams); err != nil {
			t.Fatal(err)
		}
	}
	convert()
	if n := testing.AllocsPerRun(100, convert); n != 0 {
		t.Errorf("%v allocations per call, want 0", n)
	}
}

// With room in dst, a result becomes JSON without allocating, its map
// keys of every kind included.
func TestMsgpackToJSONDoesNotAllocate(t *testing.T) {
	b := hexOf(t, "93 81 81 81 91 01 02 03 c0 a3 61 0a 62 85 01 c0 c3 c0 cb 3ff8000000000000 c0 c4 01 00 c0 d4 05 09 c0")
	dst := make([]byte, 0, 256)
	convert := func() {
		var err error
		if dst, err = appendJSONFromMsgpack(dst[:0], b, maxJSONResult); err != nil {
			t.Fatal(err)
		}
	}
	convert()
	if n := testing.AllocsPerRun(100, convert); n != 0 {
		t.Errorf("%v allocations per call, want 0", n)
	}
}
