package mpack

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

// readTests run one reader on one input; want is the value read, or the
// error, as fmt prints it, and rest how many bytes follow.
var readTests = []struct {
	name string
	read func([]byte) (any, []byte, error)
	in   string
	want string
	rest int
}{
	{"uint fixint", readUint, "\x05\xc0", "5", 1},
	{"uint uint8", readUint, "\xcc\xff", "255", 0},
	{"uint uint16", readUint, "\xcd\xff\xfe", "65534", 0},
	{"uint uint32", readUint, "\xce\xff\xff\xff\xff", "4294967295", 0},
	{"uint uint64", readUint, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "18446744073709551615", 0},
	{"uint int8 positive", readUint, "\xd0\x7f", "127", 0},
	{"uint int64 positive", readUint, "\xd3\x00\x00\x00\x00\x00\x00\x01\x00", "256", 0},
	{"uint negative fixint", readUint, "\xff", ErrRange.Error(), 1},
	{"uint int16 negative", readUint, "\xd1\xff\xff", ErrRange.Error(), 3},
	{"uint str", readUint, "\xa1a", "mpack: got str, want uint", 2},
	{"uint float", readUint, "\xca\x00\x00\x00\x00", "mpack: got float, want uint", 5},
	{"uint reserved", readUint, "\xc1", "mpack: got invalid, want uint", 1},
	{"uint short", readUint, "\xce\x00\x00", codec.ErrIncomplete.Error(), 3},
	{"uint empty", readUint, "", codec.ErrIncomplete.Error(), 0},
	{"int fixint", readInt64, "\x7f", "127", 0},
	{"int negative fixint", readInt64, "\xe0", "-32", 0},
	{"int int8", readInt64, "\xd0\x80", "-128", 0},
	{"int int16", readInt64, "\xd1\x80\x00", "-32768", 0},
	{"int int32", readInt64, "\xd2\x80\x00\x00\x00", "-2147483648", 0},
	{"int int64", readInt64, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", "-9223372036854775808", 0},
	{"int uint8", readInt64, "\xcc\xff\x01", "255", 1},
	{"int uint64 max int64", readInt64, "\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", "9223372036854775807", 0},
	{"int uint64 over", readInt64, "\xcf\x80\x00\x00\x00\x00\x00\x00\x00", ErrRange.Error(), 9},
	{"int nil", readInt64, "\xc0", "mpack: got nil, want int", 1},
	{"int short", readInt64, "\xd3\x00", codec.ErrIncomplete.Error(), 2},
	{"float64", readFloat, "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", "1.5", 0},
	{"float32", readFloat, "\xca\x3f\xc0\x00\x00", "1.5", 0},
	{"float from int", readFloat, "\xd0\xfe", "-2", 0},
	{"float from uint64", readFloat, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "1.8446744073709552e+19", 0},
	{"float short", readFloat, "\xcb\x00", codec.ErrIncomplete.Error(), 2},
	{"float32 short", readFloat, "\xca\x00", codec.ErrIncomplete.Error(), 2},
	{"float bool", readFloat, "\xc3", "mpack: got bool, want float", 1},
	{"bool true", readBool, "\xc3", "true", 0},
	{"bool false", readBool, "\xc2\x00", "false", 1},
	{"bool nil", readBool, "\xc0", "mpack: got nil, want bool", 1},
	{"nil", readNil, "\xc0\x01", "<nil>", 1},
	{"nil false", readNil, "\xc2", "mpack: got bool, want nil", 1},
	{"nil empty", readNil, "", codec.ErrIncomplete.Error(), 0},
	{"str fixstr", readStr, "\xa5hello\x00", `"hello"`, 1},
	{"str empty", readStr, "\xa0", `""`, 0},
	{"str8", readStr, "\xd9\x02hi", `"hi"`, 0},
	{"str16", readStr, "\xda\x00\x02hi", `"hi"`, 0},
	{"str32", readStr, "\xdb\x00\x00\x00\x02hi", `"hi"`, 0},
	{"str bin", readStr, "\xc4\x02hi", "mpack: got bin, want str", 4},
	{"str fixstr short", readStr, "\xa5hell", codec.ErrIncomplete.Error(), 5},
	{"str32 header short", readStr, "\xdb\x00\x00", codec.ErrIncomplete.Error(), 3},
	{"str32 max", readStr, "\xdb\xff\xff\xff\xffab", codec.ErrIncomplete.Error(), 7},
	{"bin8", readBin, "\xc4\x02hi", `"hi"`, 0},
	{"bin16", readBin, "\xc5\x00\x02hi", `"hi"`, 0},
	{"bin32", readBin, "\xc6\x00\x00\x00\x02hi\xc0", `"hi"`, 1},
	{"bin str", readBin, "\xa2hi", "mpack: got str, want bin", 3},
	{"bin32 max", readBin, "\xc6\xff\xff\xff\xff", codec.ErrIncomplete.Error(), 5},
	{"str or bin, str", readStrOrBin, "\xa2hi", `"hi"`, 0},
	{"str or bin, str8", readStrOrBin, "\xd9\x02hi", `"hi"`, 0},
	{"str or bin, bin", readStrOrBin, "\xc4\x02hi", `"hi"`, 0},
	{"str or bin, array", readStrOrBin, "\x91\xa0", "mpack: got array, want str", 2},
	{"ext fixext1", readExt, "\xd4\x05\x01", `5 "\x01"`, 0},
	{"ext fixext16", readExt, "\xd8\xfe" + strings.Repeat("x", 16), `-2 "xxxxxxxxxxxxxxxx"`, 0},
	{"ext8", readExt, "\xc7\x02\x05hi\xc0", `5 "hi"`, 1},
	{"ext16", readExt, "\xc8\x00\x02\x05hi", `5 "hi"`, 0},
	{"ext32", readExt, "\xc9\x00\x00\x00\x02\x05hi", `5 "hi"`, 0},
	{"ext fixext4 short", readExt, "\xd6\x05\x01", codec.ErrIncomplete.Error(), 3},
	{"ext32 max", readExt, "\xc9\xff\xff\xff\xff\x05", codec.ErrIncomplete.Error(), 6},
	{"ext str", readExt, "\xa0", "mpack: got str, want ext", 1},
	{"array fixarray", readArray, "\x92\x01\x02", "2", 2},
	{"array empty", readArray, "\x90", "0", 0},
	{"array16", readArray, "\xdc\x00\x02\x01\x02", "2", 2},
	{"array32", readArray, "\xdd\x00\x00\x00\x01\xc0", "1", 1},
	{"array count past end", readArray, "\x93\x01\x02", codec.ErrIncomplete.Error(), 3},
	{"array32 max", readArray, "\xdd\xff\xff\xff\xff\x01", codec.ErrIncomplete.Error(), 6},
	{"array16 short", readArray, "\xdc\x00", codec.ErrIncomplete.Error(), 2},
	{"array map", readArray, "\x80", "mpack: got map, want array", 1},
	{"map fixmap", readMap, "\x81\x01\x02", "1", 2},
	{"map16", readMap, "\xde\x00\x01\x01\x02", "1", 2},
	{"map32", readMap, "\xdf\x00\x00\x00\x01\x01\x02", "1", 2},
	{"map pairs past end", readMap, "\x82\x01\x02\x03", codec.ErrIncomplete.Error(), 4},
	{"map32 max", readMap, "\xdf\xff\xff\xff\xff\x01\x02", codec.ErrIncomplete.Error(), 7},
	{"map array", readMap, "\x90", "mpack: got array, want map", 1},
	{"skip nested", readSkip, "\x92\x81\xa1k\x93\x01\x02\x03\xc7\x01\x05x\xc0", "", 1},
	{"skip fixext16", readSkip, "\xd8\x05" + strings.Repeat("x", 16), "", 0},
	{"skip str32", readSkip, "\xdb\x00\x00\x00\x01x\x01", "", 1},
	{"skip map16", readSkip, "\xde\x00\x01\xc0\xc0\xc0", "", 1},
	{"skip reserved", readSkip, "\x91\xc1", ErrReserved.Error(), 2},
	{"skip short array", readSkip, "\x92\x01", codec.ErrIncomplete.Error(), 2},
	{"skip short fixext", readSkip, "\xd7\x00", codec.ErrIncomplete.Error(), 2},
	{"skip short str8", readSkip, "\xd9\x05abc", codec.ErrIncomplete.Error(), 5},
	{"skip short header", readSkip, "\xda\x00", codec.ErrIncomplete.Error(), 2},
	{"skip array32 max", readSkip, "\xdd\xff\xff\xff\xff\x00", codec.ErrIncomplete.Error(), 6},
	{"skip empty", readSkip, "", codec.ErrIncomplete.Error(), 0},
}

func readUint(b []byte) (any, []byte, error)  { return ReadUint(b) }
func readInt64(b []byte) (any, []byte, error) { return ReadInt(b) }
func readFloat(b []byte) (any, []byte, error) { return ReadFloat64(b) }
func readBool(b []byte) (any, []byte, error)  { return ReadBool(b) }
func readNil(b []byte) (any, []byte, error) {
	rest, err := ReadNil(b)
	return nil, rest, err
}
func readStr(b []byte) (any, []byte, error) {
	v, rest, err := ReadStr(b)
	return fmt.Sprintf("%q", v), rest, err
}
func readBin(b []byte) (any, []byte, error) {
	v, rest, err := ReadBin(b)
	return fmt.Sprintf("%q", v), rest, err
}
func readStrOrBin(b []byte) (any, []byte, error) {
	v, rest, err := ReadStrOrBin(b)
	return fmt.Sprintf("%q", v), rest, err
}
func readExt(b []byte) (any, []byte, error) {
	typ, v, rest, err := ReadExt(b)
	return fmt.Sprintf("%d %q", typ, v), rest, err
}
func readArray(b []byte) (any, []byte, error) { return ReadArrayHeader(b) }
func readMap(b []byte) (any, []byte, error)   { return ReadMapHeader(b) }
func readSkip(b []byte) (any, []byte, error) {
	rest, err := Skip(b)
	return "", rest, err
}

// TestRead: the readers on valid and invalid input; on error they return
// b whole, and errors are ErrIncomplete unwrapped, ErrRange, ErrReserved or
// a *TypeError.
func TestRead(t *testing.T) {
	for _, tt := range readTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			v, rest, err := tt.read(in[:len(in):len(in)])
			got := fmt.Sprint(v)
			if err != nil {
				got = err.Error()
				var te *TypeError
				if err != codec.ErrIncomplete && err != ErrRange && err != ErrReserved && !errors.As(err, &te) {
					t.Fatalf("got error %T %v", err, err)
				}
			}
			if got != tt.want || len(rest) != tt.rest {
				t.Fatalf("got %q and %d bytes left, want %q and %d", got, len(rest), tt.want, tt.rest)
			}
		})
	}
}

// TestReadSplit: every reader on every proper prefix of an input it reads
// says ErrIncomplete.
func TestReadSplit(t *testing.T) {
	for _, tt := range readTests {
		in := []byte(tt.in)
		if _, rest, err := tt.read(in); err != nil {
			continue
		} else {
			in = in[:len(in)-len(rest)]
		}
		for k := range len(in) {
			if _, _, err := tt.read(in[:k:k]); err != codec.ErrIncomplete {
				t.Errorf("%s: prefix %d: got %v, want %v", tt.name, k, err, codec.ErrIncomplete)
			}
		}
	}
}

// TestReadViews: views are slices of the input, capped so that appending
// to one cannot overwrite what follows it.
func TestReadViews(t *testing.T) {
	in := []byte("\xa5hello\xc4\x03abc\xd6\x05wxyz")
	s, rest, _ := ReadStr(in)
	if &s[0] != &in[1] || cap(s) != 5 {
		t.Fatalf("got view at %p cap %d, want %p cap 5", &s[0], cap(s), &in[1])
	}
	bin, rest, _ := ReadBin(rest)
	if &bin[0] != &in[8] || cap(bin) != 3 {
		t.Fatalf("got view at %p cap %d, want %p cap 3", &bin[0], cap(bin), &in[8])
	}
	_, data, _, _ := ReadExt(rest)
	if &data[0] != &in[13] || cap(data) != 4 {
		t.Fatalf("got view at %p cap %d, want %p cap 4", &data[0], cap(data), &in[13])
	}
}

// TestNextType: the type of every first byte.
func TestNextType(t *testing.T) {
	want := func(c int) Type {
		switch {
		case c <= 0x7f:
			return UintType
		case c <= 0x8f:
			return MapType
		case c <= 0x9f:
			return ArrayType
		case c <= 0xbf:
			return StrType
		case c >= 0xe0:
			return IntType
		}
		return [...]Type{NilType, InvalidType, BoolType, BoolType, BinType, BinType, BinType,
			ExtType, ExtType, ExtType, FloatType, FloatType, UintType, UintType, UintType, UintType,
			IntType, IntType, IntType, IntType, ExtType, ExtType, ExtType, ExtType, ExtType,
			StrType, StrType, StrType, ArrayType, ArrayType, MapType, MapType}[c-0xc0]
	}
	for c := range 256 {
		if got := NextType([]byte{byte(c)}); got != want(c) {
			t.Errorf("%#x: got %q, want %q", c, got, want(c))
		}
	}
	if got := NextType(nil); got != InvalidType {
		t.Errorf("empty: got %q, want %q", got, InvalidType)
	}
	if got := Type(200).String(); got != "type(?)" {
		t.Errorf("got %q, want %q", got, "type(?)")
	}
	if !IsNil([]byte{0xc0}) || IsNil([]byte{0xc2}) || IsNil(nil) {
		t.Errorf("got IsNil wrong")
	}
}

// TestReadIntLimits: the edges of every integer format.
func TestReadIntLimits(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
		-1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, math.MinInt32 - 1, math.MinInt64} {
		b := AppendInt(nil, v)
		got, rest, err := ReadInt(b)
		if err != nil || got != v || len(rest) != 0 {
			t.Errorf("%d: got %d, %v", v, got, err)
		}
		f, _, err := ReadFloat64(b)
		if err != nil || f != float64(v) {
			t.Errorf("%d: got float %v, %v", v, f, err)
		}
		u, _, err := ReadUint(b)
		if v >= 0 && (err != nil || u != uint64(v)) || v < 0 && err != ErrRange {
			t.Errorf("%d: got uint %d, %v", v, u, err)
		}
	}
}
