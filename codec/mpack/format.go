package mpack

// The msgpack formats, by first byte. See
// https://github.com/msgpack/msgpack/blob/master/spec.md.
const (
	fixmapLo   = 0x80
	fixarrayLo = 0x90
	fixstrLo   = 0xa0
	bNil       = 0xc0
	bReserved  = 0xc1
	bFalse     = 0xc2
	bTrue      = 0xc3
	bBin8      = 0xc4
	bBin16     = 0xc5
	bBin32     = 0xc6
	bExt8      = 0xc7
	bExt16     = 0xc8
	bExt32     = 0xc9
	bFloat32   = 0xca
	bFloat64   = 0xcb
	bUint8     = 0xcc
	bUint16    = 0xcd
	bUint32    = 0xce
	bUint64    = 0xcf
	bInt8      = 0xd0
	bInt16     = 0xd1
	bInt32     = 0xd2
	bInt64     = 0xd3
	bFixext1   = 0xd4
	bFixext2   = 0xd5
	bFixext4   = 0xd6
	bFixext8   = 0xd7
	bFixext16  = 0xd8
	bStr8      = 0xd9
	bStr16     = 0xda
	bStr32     = 0xdb
	bArray16   = 0xdc
	bArray32   = 0xdd
	bMap16     = 0xde
	bMap32     = 0xdf
	negfixLo   = 0xe0
)

// timestampExt is the one extension type the spec defines; its data is 4, 8
// or 12 bytes long.
const timestampExt = -1

// A kind says how the object that starts with a byte is framed.
type kind uint8

const (
	kReserved kind = iota // 0xc1
	kFixed                // the whole object is size bytes: nil, bool, numbers
	kFixStr               // fixstr: the length is in the low 5 bits
	kFixArray             // fixarray: the count is in the low 4 bits
	kFixMap               // fixmap: the count is in the low 4 bits
	kBytes                // str8..32, bin8..32: a length of lenSize bytes, then the data
	kExt                  // ext8..32: a length of lenSize bytes, the type, then the data
	kFixExt               // fixext1..16: the type, then size-2 bytes of data
	kArray                // array16/32: a count of lenSize bytes
	kMap                  // map16/32: a count of lenSize bytes
)

// format describes a first byte: its kind, its header size (type byte,
// length field and, for extensions, the extension type; for kFixed and
// kFixExt the whole object), the size of its length field, and its [Type].
type format struct {
	kind    kind
	size    uint8
	lenSize uint8
	typ     Type
}

var formats = func() (t [256]format) {
	for c := 0x00; c <= 0x7f; c++ {
		t[c] = format{kFixed, 1, 0, UintType}
	}
	for c := fixmapLo; c < fixarrayLo; c++ {
		t[c] = format{kFixMap, 1, 0, MapType}
	}
	for c := fixarrayLo; c < fixstrLo; c++ {
		t[c] = format{kFixArray, 1, 0, ArrayType}
	}
	for c := fixstrLo; c < bNil; c++ {
		t[c] = format{kFixStr, 1, 0, StrType}
	}
	for c := negfixLo; c <= 0xff; c++ {
		t[c] = format{kFixed, 1, 0, IntType}
	}
	t[bNil] = format{kFixed, 1, 0, NilType}
	t[bReserved] = format{kReserved, 1, 0, InvalidType}
	t[bFalse] = format{kFixed, 1, 0, BoolType}
	t[bTrue] = format{kFixed, 1, 0, BoolType}
	t[bBin8] = format{kBytes, 2, 1, BinType}
	t[bBin16] = format{kBytes, 3, 2, BinType}
	t[bBin32] = format{kBytes, 5, 4, BinType}
	t[bExt8] = format{kExt, 3, 1, ExtType}
	t[bExt16] = format{kExt, 4, 2, ExtType}
	t[bExt32] = format{kExt, 6, 4, ExtType}
	t[bFloat32] = format{kFixed, 5, 0, FloatType}
	t[bFloat64] = format{kFixed, 9, 0, FloatType}
	t[bUint8] = format{kFixed, 2, 0, UintType}
	t[bUint16] = format{kFixed, 3, 0, UintType}
	t[bUint32] = format{kFixed, 5, 0, UintType}
	t[bUint64] = format{kFixed, 9, 0, UintType}
	t[bInt8] = format{kFixed, 2, 0, IntType}
	t[bInt16] = format{kFixed, 3, 0, IntType}
	t[bInt32] = format{kFixed, 5, 0, IntType}
	t[bInt64] = format{kFixed, 9, 0, IntType}
	t[bFixext1] = format{kFixExt, 3, 0, ExtType}
	t[bFixext2] = format{kFixExt, 4, 0, ExtType}
	t[bFixext4] = format{kFixExt, 6, 0, ExtType}
	t[bFixext8] = format{kFixExt, 10, 0, ExtType}
	t[bFixext16] = format{kFixExt, 18, 0, ExtType}
	t[bStr8] = format{kBytes, 2, 1, StrType}
	t[bStr16] = format{kBytes, 3, 2, StrType}
	t[bStr32] = format{kBytes, 5, 4, StrType}
	t[bArray16] = format{kArray, 3, 2, ArrayType}
	t[bArray32] = format{kArray, 5, 4, ArrayType}
	t[bMap16] = format{kMap, 3, 2, MapType}
	t[bMap32] = format{kMap, 5, 4, MapType}
	return t
}()

// readLen reads the big-endian length field of size 1, 2 or 4 at b[0:].
// The caller has checked that b holds it.
func readLen(b []byte, size uint8) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(b[0])<<8 | uint64(b[1])
	default:
		return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	}
}

// validTimestamp reports whether n is a length the timestamp extension
// allows.
func validTimestamp(n uint64) bool { return n == 4 || n == 8 || n == 12 }
