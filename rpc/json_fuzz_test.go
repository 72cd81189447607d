package rpc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec/mpack"
)

// FuzzJSONToMsgpack checks the converter against encoding/json: what it
// refuses is refused; what it accepts becomes the msgpack the obvious
// conversion of its tokens makes (keys in document order), which decodes
// to the value encoding/json decodes, unless an object repeats a key,
// the nesting passes 32 or a number is out of range, which are refused.
// The output is exact at the bound: accepted at its length, refused one
// byte below.
func FuzzJSONToMsgpack(f *testing.F) {
	for _, s := range []string{
		`[]`, `{}`, `null`, `[true,false,null]`, `[0,-0,1,-1,127,128,-32,-33,65536]`,
		`[9223372036854775807,9223372036854775808,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809]`,
		`[1.5,1e2,1E+2,-0.0,1e-400,1e400]`, `"\"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\ud83d\ude00\ud83d\ude00x\udc00"`,
		"\"\xff\xed\xa0\x80\xe2\x82\"", `{"b":1,"a":[{"c":{}}]}`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`,
		jsonObject(20, "[]"), jsonObject(9, jsonObject(9, "1")), strings.Repeat("[", 33) + strings.Repeat("]", 33),
		`[1] [2]`, `[1] x`, `[1,`, ` `, `['a']`, "[\"\x01\"]", ` [ 1 , { "a" : "b" } ] `,
		`"` + strings.Repeat(`\n`, 40) + `"`, `[` + strings.Repeat(`0,`, 20) + `0]`,
	} {
		f.Add([]byte(s))
	}
	var c jsonConverter
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := c.appendMsgpack(nil, data, maxJSONParams)
		var o oracle
		want, oerr := o.convert(data)
		if oerr != nil {
			t.Fatalf("the oracle: %v", oerr)
		}
		if o.invalid || o.dup || o.deep || o.rng {
			je, ok := err.(*jsonError)
			if !ok {
				t.Fatalf("%q: got %v, want a *jsonError (invalid %v, duplicate %v, deep %v, range %v)", data, err, o.invalid, o.dup, o.deep, o.rng)
			}
			switch msg := je.msg; {
			case o.invalid:
			case o.dup && strings.HasPrefix(msg, "duplicate key "),
				o.deep && strings.HasPrefix(msg, "nesting deeper than "),
				o.rng && strings.HasPrefix(msg, "number "):
			default:
				t.Fatalf("%q: error %q (duplicate %v, deep %v, range %v)", data, msg, o.dup, o.deep, o.rng)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: got % x, want % x", data, got, want)
		}
		checkLikeEncodingJSON(t, data, got)
		if len(got) > 3*len(data) {
			t.Fatalf("%q: %d bytes of msgpack from %d of JSON", data, len(got), len(data))
		}
		if again, err := c.appendMsgpack(nil, data, len(got)); err != nil || !bytes.Equal(again, got) {
			t.Fatalf("%q with max %d: got % x, %v", data, len(got), again, err)
		}
		if _, err := c.appendMsgpack(nil, data, len(got)-1); err == nil {
			t.Fatalf("%q with max %d: no error", data, len(got)-1)
		}
	})
}

// maxJSONPerMsgpackByte bounds the JSON of a msgpack result: an ext of
// one byte inside a map key is 3 bytes that become 34.
const maxJSONPerMsgpackByte = 12

// FuzzMsgpackToJSON feeds what mpack.Walk accepts, as the bridge does,
// and checks that the JSON is valid, linear in the msgpack and exact at
// the bound: the same at its length, refused one byte below without
// passing it.
func FuzzMsgpackToJSON(f *testing.F) {
	for _, s := range []string{
		"c0", "92 c3 c2", "94 00 ff d3 8000000000000000 cf ffffffffffffffff", "93 cb 3ff8000000000000 ca 3fc00000 cb 7fefffffffffffff",
		"91 cb 7ff8000000000001", "a7 22 5c 0a 01 e2 80 a8", "a1 e9", "c4 03 0001ff", "d4 05 09", "c7 00 80", "92 90 80",
		"85 01 c0 ff c0 c3 c0 c0 c0 cb 3ff8000000000000 c0", "81 92 01 a1 61 c0", "81 81 81 a1 61 01 02 c0",
		"81 81 81 91 01 02 03 c0", "81 81 c4 01 00 01 c0", "81 81 d4 80 00 c0 c0", "91 81 81 81 01 02 03 04",
		"81 81 81 81 81 81 81 81 a1 22 01 01 01 01 01 01 01 01",
	} {
		f.Add(hexOf(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := mpack.Walk(b, mpack.Limits{})
		if err != nil {
			return
		}
		b = b[:n]
		got, err := appendJSONFromMsgpack(nil, b, maxJSONResult)
		switch {
		case err == errNotFinite:
			return
		case err != nil:
			t.Fatalf("% x: %v", b, err)
		case !json.Valid(got):
			t.Fatalf("% x: invalid JSON %s", b, got)
		case len(got) > maxJSONPerMsgpackByte*len(b)+8:
			t.Fatalf("% x: %d bytes of JSON from %d of msgpack", b, len(got), len(b))
		}
		if again, err := appendJSONFromMsgpack(nil, b, len(got)); err != nil || !bytes.Equal(again, got) {
			t.Fatalf("% x with max %d: got %s, %v", b, len(got), again, err)
		}
		if part, err := appendJSONFromMsgpack(nil, b, len(got)-1); err != errTooLargeJSON || len(part) > len(got)-1 {
			t.Fatalf("% x with max %d: got %d bytes, %v", b, len(got)-1, len(part), err)
		}
	})
}
