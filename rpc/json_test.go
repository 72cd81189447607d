package rpc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/vmihailenco/msgpack/v5"
)

// hexOf is the bytes of hex with spaces.
func hexOf(t testing.TB, hx string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(hx, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJSONToMsgpack(t *testing.T) {
	str := func(n int, c string) string { return `"` + strings.Repeat(c, n) + `"` }
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	cases := []struct {
		name, json string
		want       string // hex; "" when it fails
		err        string // the error's message, when it fails
	}{
		{"null", `null`, "c0", ""},
		{"true", `true`, "c3", ""},
		{"false", `false`, "c2", ""},
		{"zero", `0`, "00", ""},
		{"minus zero", `-0`, "00", ""},
		{"fixint", `127`, "7f", ""},
		{"uint8", `128`, "cc 80", ""},
		{"uint16", `65535`, "cd ffff", ""},
		{"uint32", `65536`, "ce 00010000", ""},
		{"negative fixint", `-32`, "e0", ""},
		{"int8", `-33`, "d0 df", ""},
		{"int64 max", `9223372036854775807`, "cf 7fffffffffffffff", ""},
		{"above int64", `9223372036854775808`, "cf 8000000000000000", ""},
		{"uint64 max", `18446744073709551615`, "cf ffffffffffffffff", ""},
		{"above uint64", `18446744073709551616`, "cb 43f0000000000000", ""},
		{"int64 min", `-9223372036854775808`, "d3 8000000000000000", ""},
		{"below int64", `-9223372036854775809`, "cb c3e0000000000000", ""},
		{"below -uint64", `-18446744073709551616`, "cb c3f0000000000000", ""},
		{"fraction", `1.5`, "cb 3ff8000000000000", ""},
		{"integral float", `1.0`, "cb 3ff0000000000000", ""},
		{"exponent", `1e2`, "cb 4059000000000000", ""},
		{"Exponent sign", `1E+2`, "cb 4059000000000000", ""},
		{"minus zero float", `-0.0`, "cb 8000000000000000", ""},
		{"underflow", `1e-400`, "cb 0000000000000000", ""},
		{"overflow", `1e400`, "", "number 1e400 out of range"},
		{"long overflow", "1" + strings.Repeat("0", 400), "", "number 1" + strings.Repeat("0", 63) + "... out of range"},
		{"empty string", `""`, "a0", ""},
		{"string", `"hi"`, "a2 6869", ""},
		{"utf-8", `"é"`, "a2 c3a9", ""},
		{"escapes", `"\"\\\/\b\f\n\r\t"`, "a8 225c2f080c0a0d09", ""},
		{"unicode escape", `"\u0041\u00e9\u20ac"`, "a6 41 c3a9 e282ac", ""},
		{"surrogate pair", `"\ud83d\ude00"`, "a4 f09f9880", ""},
		{"upper-case hex", `"\uD83D\uDE00"`, "a4 f09f9880", ""},
		{"lone high surrogate", `"\ud83d"`, "a3 efbfbd", ""},
		{"lone low surrogate", `"\ude00x"`, "a4 efbfbd 78", ""},
		{"high then letter", `"\ud83d\u0041"`, "a4 efbfbd 41", ""},
		{"high then pair", `"\ud83d\ud83d\ude00"`, "a7 efbfbd f09f9880", ""},
		{"invalid utf-8", "\"a\xffb\"", "a5 61 efbfbd 62", ""},
		{"utf-8 surrogate", "\"\xed\xa0\x80\"", "a9 efbfbd efbfbd efbfbd", ""},
		{"truncated utf-8", "\"\xe2\x82\"", "a6 efbfbd efbfbd", ""},
		{"escape and invalid", "\"\\n\xff\"", "a4 0a efbfbd", ""},
		{"31 bytes", str(31, "a"), "bf " + strings.Repeat("61", 31), ""},
		{"32 bytes", str(32, "a"), "d9 20 " + strings.Repeat("61", 32), ""},
		{"escaped to fixstr", str(10, `\u0041`), "aa " + strings.Repeat("41", 10), ""},
		{"escaped to str8", str(40, `\n`), "d9 28 " + strings.Repeat("0a", 40), ""},
		{"invalid to str16", str(100, "\xff"), "da 012c " + strings.Repeat("efbfbd", 100), ""},
		{"empty array", `[]`, "90", ""},
		{"empty object", `{}`, "80", ""},
		{"array", `[1,"a",null]`, "93 01 a1 61 c0", ""},
		{"white space", " \t\r\n[ 1 , { \"a\" : [ ] } ]\n", "92 01 81 a1 61 90", ""},
		{"document order", `{"b":1,"a":2,"c":3}`, "83 a1 62 01 a1 61 02 a1 63 03", ""},
		{"nested", `{"a":{"b":[{}]}}`, "81 a1 61 81 a1 62 91 80", ""},
		{"15 elements", "[" + strings.Repeat("0,", 14) + "0]", "9f" + strings.Repeat("00", 15), ""},
		{"16 elements", "[" + strings.Repeat("0,", 15) + "0]", "dc 0010" + strings.Repeat("00", 16), ""},
		{"16 pairs", jsonObject(16, "0"), "de 0010" + msgpackPairs(16, "00"), ""},
		{"same key in other objects", `[{"a":1},{"a":{"a":2}}]`, "92 81 a1 61 01 81 a1 61 81 a1 61 02", ""},
		{"depth 32", nest(32), strings.Repeat("91", 31) + "90", ""},
		{"depth 33", nest(33), "", "nesting deeper than 32 arrays and objects"},
		{"depth 10001", nest(10001), "", "nesting deeper than 32 arrays and objects"},
		{"depth 33 in objects", strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33), "", "nesting deeper than 32 arrays and objects"},
		{"duplicate", `{"a":1,"a":2}`, "", `duplicate key "a"`},
		{"duplicate escaped", `{"a":1,"\u0061":2}`, "", `duplicate key "a"`},
		{"duplicate invalid utf-8", "{\"\xff\":1,\"\xfe\":2}", "", `duplicate key "\xef\xbf\xbd"`},
		{"duplicate after many", jsonObject(20, "0")[:len(jsonObject(20, "0"))-1] + `,"k7":1}`, "", `duplicate key "k7"`},
		{"duplicate long", `{"` + strings.Repeat("k", 100) + `":1,"` + strings.Repeat("k", 100) + `":2}`, "", `duplicate key "` + strings.Repeat("k", 64) + `"...`},
		{"duplicate nested", `[{"x":{"a":1,"b":2,"a":3}}]`, "", `duplicate key "a"`},
		{"unexpected EOF", `[1,`, "", "unexpected EOF"},
		{"empty", " ", "", "no JSON value"},
		{"two values", `[1] [2]`, "", "more than one JSON value"},
		{"garbage after", `[1] x`, "", "invalid data after the JSON value"},
		{"bad inside", `[1 2]`, "", "invalid character '2' after array element"},
		{"single quote", `['a']`, "", "invalid character '\\'' looking for beginning of value"},
		{"control in string", "[\"\x01\"]", "", "invalid character '\\x01' in string literal"},
		{"bad escape", `["\x"]`, "", "invalid character 'x' in string escape code"},
		{"leading zero", `[01]`, "", "invalid character '1' after array element"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c jsonConverter
			got, err := c.appendMsgpack([]byte("prefix"), []byte(tc.json), maxJSONParams)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got error %v, want %q", err, tc.err)
				}
				if _, ok := err.(*jsonError); !ok {
					t.Errorf("error %T, want *jsonError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]byte("prefix"), hexOf(t, tc.want)...); !bytes.Equal(got, want) {
				t.Errorf("got % x, want % x", got, want)
			}
			checkLikeEncodingJSON(t, []byte(tc.json), got[len("prefix"):])
		})
	}
}

// jsonObject is an object of n keys k0, k1... whose values are v.
func jsonObject(n int, v string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%s`, i, v)
	}
	b.WriteByte('}')
	return b.String()
}

// msgpackPairs is the hex of the pairs of jsonObject(n, v) with v hex.
func msgpackPairs(n int, v string) string {
	var b strings.Builder
	for i := range n {
		k := strconv.Itoa(i)
		fmt.Fprintf(&b, "%02x 6b%x %s ", 0xa1+len(k), k, v)
	}
	return b.String()
}

// The sizes of the headers that the converter reserves and gives back,
// at each boundary of the msgpack forms.
func TestJSONToMsgpackHeaders(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 255, 256, 65535, 65536} {
		for _, kind := range []string{"array", "object", "string", "escaped string"} {
			var body string
			var want []byte
			switch kind {
			case "array":
				body = "[" + strings.TrimSuffix(strings.Repeat("0,", n), ",") + "]"
				want = append(mpack.AppendArrayHeader(nil, uint32(n)), make([]byte, n)...)
			case "object":
				body = jsonObject(n, "0")
				want = mpack.AppendMapHeader(nil, uint32(n))
				for i := range n {
					want = mpack.AppendStr(want, "k"+strconv.Itoa(i))
					want = mpack.AppendInt(want, 0)
				}
			case "string":
				body = `"` + strings.Repeat("a", n) + `"`
				want = mpack.AppendStr(nil, strings.Repeat("a", n))
			case "escaped string":
				body = `"` + strings.Repeat(`\t`, n) + `"`
				want = mpack.AppendStr(nil, strings.Repeat("\t", n))
			}
			var c jsonConverter
			// Inside 31 arrays: each header is placed while the others are
			// still reserved.
			body = strings.Repeat("[", 31) + body + strings.Repeat("]", 31)
			want = append(bytes.Repeat([]byte{0x91}, 31), want...)
			got, err := c.appendMsgpack(nil, []byte(body), maxJSONParams)
			if err != nil {
				t.Fatalf("%s of %d: %v", kind, n, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s of %d: got %d bytes % .40x..., want %d bytes % .40x...", kind, n, len(got), got, len(want), want)
			}
		}
	}
}

// The output is refused past max, and accepted at exactly max.
func TestJSONToMsgpackMax(t *testing.T) {
	for _, body := range []string{`[1]`, `[[[[1]]]]`, `{"a":"bcd"}`, `"\u00e9\u00e9"`, `[1.5,[{"x":[]}]]`, `[` + strings.Repeat(`"\n\n\n",`, 20) + `0]`} {
		var c jsonConverter
		want, err := c.appendMsgpack(nil, []byte(body), maxJSONParams)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if got, err := c.appendMsgpack([]byte("x"), []byte(body), len(want)); err != nil || !bytes.Equal(got[1:], want) {
			t.Errorf("%s with max %d: got % x, %v; want % x", body, len(want), got, err, want)
		}
		_, err = c.appendMsgpack(nil, []byte(body), len(want)-1)
		if want := fmt.Sprintf("too large as msgpack (over %d bytes)", len(want)-1); err == nil || err.Error() != want {
			t.Errorf("%s with max %d: got %v, want %q", body, len(want)-1, err, want)
		}
	}
}

// A converter is reused by the bridge: a failed call leaves nothing
// behind for the next.
func TestJSONConverterReuse(t *testing.T) {
	var c jsonConverter
	big := jsonObject(100, jsonObject(10, "[]"))
	for _, body := range []string{big, `{"k1":[{"a":1,"a":2}]}`, big, jsonObject(100, "1")[:300], `[{"k0":1}]`, big} {
		got, err := c.appendMsgpack(nil, []byte(body), maxJSONParams)
		var o oracle
		ref, _ := o.convert([]byte(body))
		switch {
		case o.dup || o.invalid:
			if err == nil {
				t.Errorf("%.40s...: no error", body)
			}
		case err != nil:
			t.Errorf("%.40s...: %v", body, err)
		case !bytes.Equal(got, ref):
			t.Errorf("%.40s...: got % .40x, want % .40x", body, got, ref)
		}
	}
}

// checkLikeEncodingJSON checks that mp decodes (with
// github.com/vmihailenco/msgpack) to the value encoding/json decodes
// from text, the numbers mapped as the bridge maps them.
func checkLikeEncodingJSON(t *testing.T, text, mp []byte) {
	t.Helper()
	if n, err := mpack.Walk(mp, mpack.Limits{MaxFrame: mpack.MaxFrameLimit}); err != nil || n != len(mp) {
		t.Fatalf("the output is not one msgpack value: %d of %d bytes, %v", n, len(mp), err)
	}
	d := msgpack.NewDecoder(bytes.NewReader(mp))
	d.UseLooseInterfaceDecoding(true)
	got, err := d.DecodeInterfaceLoose()
	if err != nil {
		t.Fatalf("msgpack: %v", err)
	}
	jd := json.NewDecoder(bytes.NewReader(text))
	jd.UseNumber()
	var want any
	if err := jd.Decode(&want); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if got, want := normalize(got), normalize(want); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v (from encoding/json)", got, want)
	}
}

// normalize makes the values of both decoders comparable: integers as
// uint64 when not negative, else int64, floats as their bits.
func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return normalize(i)
		}
		if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			return u
		}
		f, _ := strconv.ParseFloat(string(v), 64)
		return normalize(f)
	case int64:
		if v >= 0 {
			return uint64(v)
		}
	case float64:
		return fmt.Sprintf("float %x", math.Float64bits(v))
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = normalize(v[k])
		}
	}
	return v
}

// oracle converts JSON the obvious way, from encoding/json's tokens, each
// container in a buffer of its own; it notes what the bridge refuses.
type oracle struct {
	invalid bool // encoding/json refuses it
	dup     bool // an object repeats a key
	deep    bool // more than 32 levels
	rng     bool // a number out of float64's range
}

func (o *oracle) convert(text []byte) ([]byte, error) {
	if !json.Valid(text) {
		o.invalid = true
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	return o.value(d, 1)
}

func (o *oracle) value(d *json.Decoder, depth int) ([]byte, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case nil:
		return mpack.AppendNil(nil), nil
	case bool:
		return mpack.AppendBool(nil, v), nil
	case string:
		return mpack.AppendStr(nil, v), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return mpack.AppendInt(nil, i), nil
		}
		if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			return mpack.AppendUint(nil, u), nil
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			o.rng = true
		}
		return mpack.AppendFloat64(nil, f), nil
	case json.Delim:
		if depth > mpack.DefaultMaxDepth {
			o.deep = true
		}
		var body []byte
		n := 0
		seen := map[string]bool{}
		for ; d.More(); n++ {
			if v == '{' {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				if seen[k.(string)] {
					o.dup = true
				}
				seen[k.(string)] = true
				body = mpack.AppendStr(body, k.(string))
			}
			e, err := o.value(d, depth+1)
			if err != nil {
				return nil, err
			}
			body = append(body, e...)
		}
		if _, err := d.Token(); err != nil {
			return nil, err
		}
		if v == '{' {
			return append(mpack.AppendMapHeader(nil, uint32(n)), body...), nil
		}
		return append(mpack.AppendArrayHeader(nil, uint32(n)), body...), nil
	}
	return nil, fmt.Errorf("token %T", tok)
}

func TestMsgpackToJSON(t *testing.T) {
	fixext := "d4 05 09" // ext 5, one byte
	cases := []struct {
		name, msgpack, want string
		err                 error
	}{
		{"nil", "c0", `null`, nil},
		{"bools", "92 c3 c2", `[true,false]`, nil},
		{"ints", "94 00 ff d3 8000000000000000 cf ffffffffffffffff", `[0,-1,-9223372036854775808,18446744073709551615]`, nil},
		{"floats", "93 cb 3ff8000000000000 ca 3fc00000 cb 7fefffffffffffff", `[1.5,1.5,1.7976931348623157e+308]`, nil},
		{"NaN", "91 cb 7ff8000000000001", "", errNotFinite},
		{"infinity", "ca 7f800000", "", errNotFinite},
		{"NaN key", "81 cb 7ff8000000000001 01", "", errNotFinite},
		{"string", "a7 22 5c 0a 01 e2 80 a8", `"\"\\\n\u0001\u2028"`, nil},
		{"invalid utf-8", "a1 e9", `"\u00e9"`, nil},
		{"bin", "c4 03 0001ff", `"AAH/"`, nil},
		{"ext", fixext, `{"type":5,"data":"CQ=="}`, nil},
		{"empty", "92 90 80", `[[],{}]`, nil},
		{"string keys", "82 a1 62 01 a1 61 02", `{"b":1,"a":2}`, nil},
		{"scalar keys", "85 01 c0 ff c0 c3 c0 c0 c0 cb 3ff8000000000000 c0", `{"1":null,"-1":null,"true":null,"null":null,"1.5":null}`, nil},
		{"array key", "81 92 01 a1 61 c0", `{"[1,\"a\"]":null}`, nil},
		{"map key", "81 81 a1 61 01 c0", `{"{\"a\":1}":null}`, nil},
		{"bin key", "81 c4 01 00 c0", `{"\"AA==\"":null}`, nil},
		{"ext key", "81 " + fixext + " c0", `{"{\"type\":5,\"data\":\"CQ==\"}":null}`, nil},
		{"escaped string in a key", "81 91 a2 225c c0", `{"[\"\\\"\\\\\"]":null}`, nil},
		{"scalar key in a key", "81 81 01 02 c0", `{"{\"1\":2}":null}`, nil},
		{"map key in a key", "81 81 81 a1 61 01 02 c0", `{"{{\"a\":1}:2}":null}`, nil},
		{"array key in a key in a key", "81 81 81 91 01 02 03 c0", `{"{{[1]:2}:3}":null}`, nil},
		{"bin key in a key", "81 81 c4 01 00 01 c0", `{"{\"AA==\":1}":null}`, nil},
		{"key in a value", "91 81 81 81 01 02 03 04", `[{"{{\"1\":2}:3}":4}]`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := appendJSONFromMsgpack([]byte("prefix"), hexOf(t, tc.msgpack), maxJSONResult)
			if err != tc.err {
				t.Fatalf("got error %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if want := "prefix" + tc.want; string(got) != want {
				t.Errorf("got %s, want %s", got, want)
			}
			if !json.Valid(got[len("prefix"):]) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}

// The result is refused past max, and accepted at exactly max, whatever
// kind of value crosses it.
func TestMsgpackToJSONMax(t *testing.T) {
	for _, hx := range []string{"c0", "ff", "cb 3ff8000000000000", "a3 616263", "a2 0a01", "c4 02 0102", "d4 05 09",
		"92 01 02", "90", "80", "82 01 02 a1 61 03", "81 92 01 02 c0", "81 81 81 01 02 03 04", "81 c4 01 00 c0"} {
		b := hexOf(t, hx)
		want, err := appendJSONFromMsgpack(nil, b, maxJSONResult)
		if err != nil {
			t.Fatalf("%s: %v", hx, err)
		}
		if got, err := appendJSONFromMsgpack([]byte("x"), b, len(want)); err != nil || string(got[1:]) != string(want) {
			t.Errorf("%s with max %d: got %s, %v; want %s", hx, len(want), got, err, want)
		}
		for max := range len(want) {
			got, err := appendJSONFromMsgpack([]byte("x"), b, max)
			if err != errTooLargeJSON || len(got) > 1+max {
				t.Errorf("%s with max %d: got %s, %v; want at most %d bytes and %v", hx, max, got, err, max, errTooLargeJSON)
			}
		}
	}
}

// Issue 9: a map key that was a map whose key was a map... was escaped
// once more at each level, doubling the backslashes: 47 bytes of msgpack
// made 12.6 MB of JSON at depth 22 (these 46 bytes made 8.4 MB). Each
// byte is now escaped once at most.
func TestMsgpackToJSONNestedKeysLinear(t *testing.T) {
	const depth = 22
	b := []byte{0x81, 0xa1, 'a', 0x01} // {"a": 1}
	for range depth - 1 {
		b = append(append([]byte{0x81}, b...), 0x01) // {that: 1}
	}
	got, err := appendJSONFromMsgpack(nil, b, maxJSONResult)
	if err != nil {
		t.Fatal(err)
	}
	// The outermost key is the text of the 21 maps within, escaped once.
	inner := strings.Repeat("{", depth-2) + `{\"a\":1}` + strings.Repeat(":1}", depth-2)
	if want := `{"` + inner + `":1}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if len(got) > 4*len(b) || !json.Valid(got) {
		t.Errorf("%d bytes of msgpack made %d bytes of JSON (valid %v)", len(b), len(got), json.Valid(got))
	}
}

// jsonStringLen counts what handlers.AppendJSONString writes.
func TestJSONStringLen(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "abc", "\"\\\n\r\t\b\f\x00\x1f\x7f", "é€😀", "\u2028\u2029", "\xff\xe2\x82", "\xed\xa0\x80", string(all)} {
		if got, want := jsonStringLen([]byte(s)), len(handlers.AppendJSONString(nil, []byte(s))); got != want {
			t.Errorf("%q: got %d, want %d", s, got, want)
		}
	}
}

// The bridge's answers at the new bounds.
func TestHTTPBridgeJSONBounds(t *testing.T) {
	reg := bridgeRegistry()
	reg.HandleRPCFunc("large", func(w *handlers.Reply, c *handlers.Call) {
		// 3 MiB of control bytes are 18 MiB of \u0001.
		w.SetResult(mpack.AppendStrBytes(w.Result(), bytes.Repeat([]byte{1}, 3<<20)))
	})
	reg.HandleRPCFunc("nested keys", func(w *handlers.Reply, c *handlers.Call) {
		w.SetResult(hexOf(t, "81 81 81 a1 61 01 02 03"))
	})
	for _, tc := range []struct {
		name, target, body string
		status             int
		want               string
	}{
		{"document order", "/rpc/echo", `[{"b":1,"a":{"d":2,"c":3}}]`, 200, `{"b":1,"a":{"d":2,"c":3}}`},
		{"duplicate key", "/rpc/echo", `[{"a":1,"b":2,"a":3}]`, 400, `{"error":"params: duplicate key \"a\"","code":2}`},
		{"too large", "/rpc/large", `[]`, 500, `{"error":"result: too large as JSON (over 16 MiB)","code":4}`},
		{"nested keys", "/rpc/nested%20keys", `[]`, 200, `{"{{\"a\":1}:2}":3}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, got := serve(t, reg, "POST", tc.target, "application/json", []byte(tc.body))
			if status != tc.status || string(got) != tc.want {
				t.Errorf("got %d %s, want %d %s", status, got, tc.status, tc.want)
			}
		})
	}
}
