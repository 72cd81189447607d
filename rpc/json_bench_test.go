package rpc

import (
	"fmt"
	"strings"
	"testing"
)

// jsonArray is a JSON array of elem repeated to about n bytes.
func jsonArray(n int, elem string) []byte {
	k := max(n/(len(elem)+1), 1)
	return []byte("[" + strings.Repeat(elem+",", k-1) + elem + "]")
}

// benchBodies are the kinds of JSON params the converter is timed on,
// the cheapest and the dearest per byte.
func benchBodies(n int) []struct {
	name string
	body []byte
} {
	deep := strings.Repeat(`[1,`, 31) + string(jsonArray(n-4*31, "0")) + strings.Repeat(`]`, 31)
	return []struct {
		name string
		body []byte
	}{
		{"zeros", jsonArray(n, "0")},
		{"ints", jsonArray(n, "-1234567890123")},
		{"floats", jsonArray(n, "1.5")},
		{"long floats", jsonArray(n, "-1.2345678901234567e-300")},
		{"strings", jsonArray(n, `"abcdefghijklmnop"`)},
		{"escapes", jsonArray(n, `"a\n\"\u00e9\ud83d\ude00"`)},
		{"invalid utf-8", jsonArray(n, "\"\xff\xfe\xfd\xfc\"")},
		{"small objects", jsonArray(n, `{"id":12345,"name":"widget","ok":true}`)},
		{"objects of 9 keys", jsonArray(n, `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}`)},
		{"one object", []byte(jsonObject(n/10, "0"))},
		{"deep", []byte(deep)},
		{"nested empties", jsonArray(n, strings.Repeat("[", 31)+strings.Repeat("]", 31))},
	}
}

// BenchmarkJSONToMsgpack times the conversion of JSON params, as the
// bridge makes it, at the on-loop bound (maxInlineJSON) and above.
func BenchmarkJSONToMsgpack(b *testing.B) {
	for _, size := range []int{16 << 10, 64 << 10, 4 << 20} {
		for _, tc := range benchBodies(size) {
			b.Run(fmt.Sprintf("%s/%dKiB", tc.name, size>>10), func(b *testing.B) {
				var c jsonConverter
				dst, err := c.appendMsgpack(nil, tc.body, maxJSONParams)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(tc.body)))
				b.ReportAllocs()
				for b.Loop() {
					dst, _ = c.appendMsgpack(dst[:0], tc.body, maxJSONParams)
				}
			})
		}
	}
}

// BenchmarkMsgpackToJSON times the conversion of a result.
func BenchmarkMsgpackToJSON(b *testing.B) {
	for _, tc := range benchBodies(64 << 10) {
		b.Run(tc.name, func(b *testing.B) {
			var c jsonConverter
			mp, err := c.appendMsgpack(nil, tc.body, maxJSONParams)
			if err != nil {
				b.Fatal(err)
			}
			dst, _ := appendJSONFromMsgpack(nil, mp, maxJSONResult)
			b.SetBytes(int64(len(mp)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = appendJSONFromMsgpack(dst[:0], mp, maxJSONResult)
			}
		})
	}
}
