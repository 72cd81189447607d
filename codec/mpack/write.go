package mpack

import "math"

// The writers append one object to dst and return the extended slice, like
// strconv.AppendInt: reuse a buffer with buf[:0]. They allocate only when
// dst lacks capacity. Integers and lengths take their smallest encoding;
// floats keep their width. A str, bin or ext longer than 2^32-1 bytes
// cannot be encoded: the writer panics.

// AppendNil appends nil.
func AppendNil(dst []byte) []byte { return append(dst, bNil) }

// AppendBool appends a bool.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, bTrue)
	}
	return append(dst, bFalse)
}

// AppendUint appends an unsigned integer: a positive fixint or uint 8..64.
func AppendUint(dst []byte, v uint64) []byte {
	switch {
	case v <= 0x7f:
		return append(dst, byte(v))
	case v <= math.MaxUint8:
		return append(dst, bUint8, byte(v))
	case v <= math.MaxUint16:
		return append(dst, bUint16, byte(v>>8), byte(v))
	case v <= math.MaxUint32:
		return append(dst, bUint32, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(dst, bUint64, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// AppendInt appends a signed integer: as [AppendUint] when it is not
// negative (the shorter form), else a negative fixint or int 8..64.
func AppendInt(dst []byte, v int64) []byte {
	switch {
	case v >= 0:
		return AppendUint(dst, uint64(v))
	case v >= -32:
		return append(dst, byte(v))
	case v >= math.MinInt8:
		return append(dst, bInt8, byte(v))
	case v >= math.MinInt16:
		return append(dst, bInt16, byte(v>>8), byte(v))
	case v >= math.MinInt32:
		return append(dst, bInt32, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(dst, bInt64, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// AppendFloat64 appends a float64 (always 9 bytes).
func AppendFloat64(dst []byte, f float64) []byte {
	v := math.Float64bits(f)
	return append(dst, bFloat64, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// AppendFloat32 appends a float32 (always 5 bytes).
func AppendFloat32(dst []byte, f float32) []byte {
	v := math.Float32bits(f)
	return append(dst, bFloat32, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// appendLen appends a type byte for an 8-, 16- or 32-bit length and the
// length.
func appendLen(dst []byte, n int, b8, b16, b32 byte) []byte {
	switch {
	case n <= math.MaxUint8:
		return append(dst, b8, byte(n))
	case n <= math.MaxUint16:
		return append(dst, b16, byte(n>>8), byte(n))
	case uint64(n) <= math.MaxUint32:
		return append(dst, b32, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	panic("mpack: object longer than 2^32-1 bytes")
}

// appendStrHeader appends the header of a str of n bytes.
func appendStrHeader(dst []byte, n int) []byte {
	if n < 32 {
		return append(dst, fixstrLo|byte(n))
	}
	return appendLen(dst, n, bStr8, bStr16, bStr32)
}

// AppendStr appends s as a str: fixstr or str 8..32.
func AppendStr(dst []byte, s string) []byte {
	return append(appendStrHeader(dst, len(s)), s...)
}

// AppendStrBytes appends b as a str: fixstr or str 8..32.
func AppendStrBytes(dst []byte, b []byte) []byte {
	return append(appendStrHeader(dst, len(b)), b...)
}

// AppendBin appends b as a bin 8..32.
func AppendBin(dst []byte, b []byte) []byte {
	return append(appendLen(dst, len(b), bBin8, bBin16, bBin32), b...)
}

// AppendExt appends an extension of type typ: fixext when data is 1, 2, 4,
// 8 or 16 bytes long, else ext 8..32.
func AppendExt(dst []byte, typ int8, data []byte) []byte {
	switch len(data) {
	case 1:
		dst = append(dst, bFixext1, byte(typ))
	case 2:
		dst = append(dst, bFixext2, byte(typ))
	case 4:
		dst = append(dst, bFixext4, byte(typ))
	case 8:
		dst = append(dst, bFixext8, byte(typ))
	case 16:
		dst = append(dst, bFixext16, byte(typ))
	default:
		dst = append(appendLen(dst, len(data), bExt8, bExt16, bExt32), byte(typ))
	}
	return append(dst, data...)
}

// AppendArrayHeader appends the header of an array of n elements: fixarray,
// array16 or array32. The caller appends the n elements after it.
func AppendArrayHeader(dst []byte, n uint32) []byte {
	switch {
	case n < 16:
		return append(dst, fixarrayLo|byte(n))
	case n <= math.MaxUint16:
		return append(dst, bArray16, byte(n>>8), byte(n))
	}
	return append(dst, bArray32, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendMapHeader appends the header of a map of n pairs: fixmap, map16 or
// map32. The caller appends the n keys and values after it, alternately.
func AppendMapHeader(dst []byte, n uint32) []byte {
	switch {
	case n < 16:
		return append(dst, fixmapLo|byte(n))
	case n <= math.MaxUint16:
		return append(dst, bMap16, byte(n>>8), byte(n))
	}
	return append(dst, bMap32, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
