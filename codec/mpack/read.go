package mpack

import (
	"math"

	"github.com/tokamak-io/tokamak/codec"
)

// Type is the family of a msgpack object, as its first byte tells.
type Type uint8

// The types. Integers are told apart by family only: positive fixint and
// uint 8..64 are UintType, negative fixint and int 8..64 are IntType;
// [ReadInt] and [ReadUint] accept both.
const (
	InvalidType Type = iota // the reserved byte 0xc1, or no byte at all
	NilType
	BoolType
	IntType
	UintType
	FloatType // float32 and float64
	StrType
	BinType
	ArrayType
	MapType
	ExtType
	numTypes
)

var typeNames = [numTypes]string{"invalid", "nil", "bool", "int", "uint", "float", "str", "bin", "array", "map", "ext"}

func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return "type(?)"
}

// NextType returns the type of the object that starts at b[0], and
// [InvalidType] when b is empty.
func NextType(b []byte) Type {
	if len(b) == 0 {
		return InvalidType
	}
	return formats[b[0]].typ
}

// The readers below decode the object at the start of b and return what
// follows it as rest. They are meant for frames that passed a [Walker], but
// check every length against b and never panic, allocate or read past
// len(b) on any input: bytes that end inside the object give
// [codec.ErrIncomplete], another type a [*TypeError]. On error rest is b.
// Views they return are slices of b, not copies: they are valid as long as
// b is.

// IsNil reports whether b starts with nil.
func IsNil(b []byte) bool { return len(b) > 0 && b[0] == bNil }

// ReadNil reads a nil.
func ReadNil(b []byte) (rest []byte, err error) {
	if len(b) == 0 {
		return b, codec.ErrIncomplete
	}
	if b[0] != bNil {
		return b, typeError(NilType, b[0])
	}
	return b[1:], nil
}

// ReadBool reads a bool.
func ReadBool(b []byte) (v bool, rest []byte, err error) {
	if len(b) == 0 {
		return false, b, codec.ErrIncomplete
	}
	switch b[0] {
	case bFalse:
		return false, b[1:], nil
	case bTrue:
		return true, b[1:], nil
	}
	return false, b, typeError(BoolType, b[0])
}

// readInt reads an integer of any family as a magnitude and a sign: neg
// reports a negative int, whose value is int64(u). want names the caller's
// type for errors.
func readInt(b []byte, want Type) (u uint64, neg bool, n int, err error) {
	if len(b) == 0 {
		return 0, false, 0, codec.ErrIncomplete
	}
	c := b[0]
	switch {
	case c <= 0x7f:
		return uint64(c), false, 1, nil
	case c >= negfixLo:
		return uint64(int64(int8(c))), true, 1, nil
	}
	f := &formats[c]
	if f.typ != IntType && f.typ != UintType {
		return 0, false, 0, typeError(want, c)
	}
	n = int(f.size)
	if len(b) < n {
		return 0, false, 0, codec.ErrIncomplete
	}
	switch c {
	case bUint8:
		return uint64(b[1]), false, n, nil
	case bUint16:
		return uint64(be16(b[1:])), false, n, nil
	case bUint32:
		return uint64(be32(b[1:])), false, n, nil
	case bUint64:
		return be64(b[1:]), false, n, nil
	case bInt8:
		v := int64(int8(b[1]))
		return uint64(v), v < 0, n, nil
	case bInt16:
		v := int64(int16(be16(b[1:])))
		return uint64(v), v < 0, n, nil
	case bInt32:
		v := int64(int32(be32(b[1:])))
		return uint64(v), v < 0, n, nil
	default: // bInt64
		v := int64(be64(b[1:]))
		return uint64(v), v < 0, n, nil
	}
}

// ReadUint reads an integer of any family that is not negative.
func ReadUint(b []byte) (v uint64, rest []byte, err error) {
	if len(b) > 0 && b[0] <= 0x7f { // positive fixint, inlined
		return uint64(b[0]), b[1:], nil
	}
	return readUintSlow(b)
}

func readUintSlow(b []byte) (v uint64, rest []byte, err error) {
	u, neg, n, err := readInt(b, UintType)
	if err != nil {
		return 0, b, err
	}
	if neg {
		return 0, b, ErrRange
	}
	return u, b[n:], nil
}

// ReadInt reads an integer of any family that fits in an int64.
func ReadInt(b []byte) (v int64, rest []byte, err error) {
	if len(b) > 0 && (b[0] <= 0x7f || b[0] >= negfixLo) { // fixint, inlined
		return int64(int8(b[0])), b[1:], nil
	}
	return readIntSlow(b)
}

func readIntSlow(b []byte) (v int64, rest []byte, err error) {
	u, neg, n, err := readInt(b, IntType)
	if err != nil {
		return 0, b, err
	}
	if !neg && u > math.MaxInt64 {
		return 0, b, ErrRange
	}
	return int64(u), b[n:], nil
}

// ReadFloat64 reads a float64, a float32 (widened), or an integer of any
// family (converted, as msgpack/v5 does).
func ReadFloat64(b []byte) (v float64, rest []byte, err error) {
	if len(b) == 0 {
		return 0, b, codec.ErrIncomplete
	}
	switch b[0] {
	case bFloat32:
		if len(b) < 5 {
			return 0, b, codec.ErrIncomplete
		}
		return float64(math.Float32frombits(be32(b[1:]))), b[5:], nil
	case bFloat64:
		if len(b) < 9 {
			return 0, b, codec.ErrIncomplete
		}
		return math.Float64frombits(be64(b[1:])), b[9:], nil
	}
	u, neg, n, err := readInt(b, FloatType)
	if err != nil {
		return 0, b, err
	}
	if neg {
		return float64(int64(u)), b[n:], nil
	}
	return float64(u), b[n:], nil
}

// readBytes reads the header of a str or bin and checks its data is in b;
// it returns the data's offset and length.
func readBytes(b []byte) (off, n int, err error) {
	c := b[0]
	f := &formats[c]
	if f.kind == kFixStr {
		off, n = 1, int(c&0x1f)
	} else {
		off = int(f.size)
		if len(b) < off {
			return 0, 0, codec.ErrIncomplete
		}
		size := readLen(b[1:], f.lenSize)
		if size > uint64(len(b)-off) {
			return 0, 0, codec.ErrIncomplete
		}
		n = int(size)
	}
	if n > len(b)-off {
		return 0, 0, codec.ErrIncomplete
	}
	return off, n, nil
}

// ReadStr reads a str and returns its bytes, a view of b (no UTF-8 check).
func ReadStr(b []byte) (s, rest []byte, err error) {
	if len(b) > 0 && b[0]&0xe0 == fixstrLo { // fixstr, inlined
		if n := 1 + int(b[0]&0x1f); n <= len(b) {
			return b[1:n:n], b[n:], nil
		}
	}
	return readStrSlow(b)
}

func readStrSlow(b []byte) (s, rest []byte, err error) {
	if len(b) == 0 {
		return nil, b, codec.ErrIncomplete
	}
	if formats[b[0]].typ != StrType {
		return nil, b, typeError(StrType, b[0])
	}
	off, n, err := readBytes(b)
	if err != nil {
		return nil, b, err
	}
	return b[off : off+n : off+n], b[off+n:], nil
}

// ReadBin reads a bin and returns its bytes, a view of b.
func ReadBin(b []byte) (v, rest []byte, err error) {
	if len(b) == 0 {
		return nil, b, codec.ErrIncomplete
	}
	if formats[b[0]].typ != BinType {
		return nil, b, typeError(BinType, b[0])
	}
	off, n, err := readBytes(b)
	if err != nil {
		return nil, b, err
	}
	return b[off : off+n : off+n], b[off+n:], nil
}

// ReadStrOrBin reads a str or a bin and returns its bytes, a view of b.
// Peers that have no bin type (Cocaine clients, old msgpack libraries) send
// bytes in the str family; a TypeError names StrType as the type wanted.
func ReadStrOrBin(b []byte) (v, rest []byte, err error) {
	if len(b) > 0 && b[0]&0xe0 == fixstrLo { // fixstr, inlined
		if n := 1 + int(b[0]&0x1f); n <= len(b) {
			return b[1:n:n], b[n:], nil
		}
	}
	return readStrOrBinSlow(b)
}

func readStrOrBinSlow(b []byte) (v, rest []byte, err error) {
	if len(b) == 0 {
		return nil, b, codec.ErrIncomplete
	}
	if t := formats[b[0]].typ; t != StrType && t != BinType {
		return nil, b, typeError(StrType, b[0])
	}
	off, n, err := readBytes(b)
	if err != nil {
		return nil, b, err
	}
	return b[off : off+n : off+n], b[off+n:], nil
}

// ReadExt reads an extension and returns its type and data, a view of b.
func ReadExt(b []byte) (typ int8, data, rest []byte, err error) {
	if len(b) == 0 {
		return 0, nil, b, codec.ErrIncomplete
	}
	f := &formats[b[0]]
	var off, n int
	switch f.kind {
	case kFixExt:
		off, n = 2, int(f.size)-2
	case kExt:
		off = int(f.size)
		if len(b) < off {
			return 0, nil, b, codec.ErrIncomplete
		}
		size := readLen(b[1:], f.lenSize)
		if size > uint64(len(b)-off) {
			return 0, nil, b, codec.ErrIncomplete
		}
		n = int(size)
	default:
		return 0, nil, b, typeError(ExtType, b[0])
	}
	if len(b) < off+n {
		return 0, nil, b, codec.ErrIncomplete
	}
	return int8(b[off-1]), b[off : off+n : off+n], b[off+n:], nil
}

// readCount reads an array or map header of the given family and checks
// that rest can hold its elements, one byte each at least (a map: two per
// pair).
func readCount(b []byte, want Type) (n int, rest []byte, err error) {
	if len(b) == 0 {
		return 0, b, codec.ErrIncomplete
	}
	c := b[0]
	f := &formats[c]
	if f.typ != want {
		return 0, b, typeError(want, c)
	}
	var count uint64
	hdr := int(f.size)
	if f.kind == kFixArray || f.kind == kFixMap {
		count = uint64(c & 0x0f)
	} else {
		if len(b) < hdr {
			return 0, b, codec.ErrIncomplete
		}
		count = readLen(b[1:], f.lenSize)
	}
	elems := count
	if want == MapType {
		elems *= 2
	}
	if elems > uint64(len(b)-hdr) {
		return 0, b, codec.ErrIncomplete
	}
	return int(count), b[hdr:], nil
}

// ReadArrayHeader reads the header of an array and returns its number of
// elements, which follow in rest. It returns [codec.ErrIncomplete] when
// rest is shorter than n bytes, so n is never more than len(b); even so,
// do not allocate from it on bytes no [Walker] has checked.
func ReadArrayHeader(b []byte) (n int, rest []byte, err error) {
	if len(b) > 0 && b[0]&0xf0 == fixarrayLo { // fixarray, inlined
		if n := int(b[0] & 0x0f); n < len(b) {
			return n, b[1:], nil
		}
	}
	return readCount(b, ArrayType)
}

// ReadMapHeader reads the header of a map and returns its number of pairs,
// which follow in rest, key then value. It returns [codec.ErrIncomplete]
// when rest is shorter than 2n bytes.
func ReadMapHeader(b []byte) (n int, rest []byte, err error) {
	return readCount(b, MapType)
}

// Skip skips the object at the start of b, however nested, and returns
// what follows it. It does not recurse and checks no limits: on bytes no
// [Walker] has checked it takes time linear in len(b) and returns
// [codec.ErrIncomplete] if b ends inside the object, [ErrReserved] at 0xc1.
func Skip(b []byte) (rest []byte, err error) {
	off := 0
	for pending := uint64(1); pending > 0; pending-- {
		if off >= len(b) {
			return b, codec.ErrIncomplete
		}
		c := b[off]
		f := &formats[c]
		switch f.kind {
		case kFixed, kFixExt:
			off += int(f.size)
		case kFixStr:
			off += 1 + int(c&0x1f)
		case kFixArray:
			off++
			pending += uint64(c & 0x0f)
		case kFixMap:
			off++
			pending += 2 * uint64(c&0x0f)
		case kBytes, kExt:
			h := int(f.size)
			if h > len(b)-off {
				return b, codec.ErrIncomplete
			}
			size := readLen(b[off+1:], f.lenSize)
			if size > uint64(len(b)-off-h) {
				return b, codec.ErrIncomplete
			}
			off += h + int(size)
		case kArray, kMap:
			h := int(f.size)
			if h > len(b)-off {
				return b, codec.ErrIncomplete
			}
			n := readLen(b[off+1:], f.lenSize)
			if f.kind == kMap {
				n *= 2
			}
			// Each element takes a byte at least: a count past the end
			// cannot be complete, and pending stays below 2^33.
			if n > uint64(len(b)-off-h) {
				return b, codec.ErrIncomplete
			}
			off += h
			pending += n
		default:
			return b, ErrReserved
		}
	}
	if off > len(b) {
		return b, codec.ErrIncomplete
	}
	return b[off:], nil
}

func be16(b []byte) uint16 { _ = b[1]; return uint16(b[0])<<8 | uint16(b[1]) }
func be32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
func be64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}
