package main

import (
	"errors"
	"fmt"
)

// The load driver decodes only the shapes it needs, by hand and in place,
// so that its cost per call stays far below the servers' and so that it
// checks tokamak's answers with code that shares nothing with tokamak's
// codecs. Every length is checked against the bytes at hand and against
// maxFrame before it is used; nothing is allocated from a declared length.

// errIncomplete means the buffer ends inside the value: read more.
var errIncomplete = errors.New("rpcload: incomplete frame")

// frameError is a malformed frame: the connection can no longer be read.
type frameError struct {
	off int
	msg string
}

func (e *frameError) Error() string {
	return fmt.Sprintf("rpcload: malformed frame at byte %d: %s", e.off, e.msg)
}

// maxDepth bounds the nesting of values that skip walks.
const maxDepth = 32

// skip returns the length of the msgpack value at the start of b, which
// may not be longer than maxFrame.
func skip(b []byte, maxFrame int) (int, error) {
	return skipAt(b, 0, maxFrame, 0)
}

func skipAt(b []byte, off, maxFrame, depth int) (int, error) {
	if off >= len(b) {
		return 0, errIncomplete
	}
	if depth > maxDepth {
		return 0, &frameError{off, "nested too deeply"}
	}
	t := b[off]
	var hdr, n int // header bytes, then payload bytes or element count
	elems := 0     // values that follow (array and map elements)
	switch {
	case t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3:
		return off + 1, nil
	case t&0xf0 == 0x80: // fixmap
		hdr, elems = 1, 2*int(t&0x0f)
	case t&0xf0 == 0x90: // fixarray
		hdr, elems = 1, int(t&0x0f)
	case t&0xe0 == 0xa0: // fixstr
		hdr, n = 1, int(t&0x1f)
	case t == 0xcc || t == 0xd0:
		hdr = 2
	case t == 0xcd || t == 0xd1:
		hdr = 3
	case t == 0xca || t == 0xce || t == 0xd2:
		hdr = 5
	case t == 0xcb || t == 0xcf || t == 0xd3:
		hdr = 9
	case t == 0xd4, t == 0xd5, t == 0xd6, t == 0xd7, t == 0xd8: // fixext 1..16
		hdr, n = 2, 1<<(t-0xd4)
	case t == 0xc4 || t == 0xd9 || t == 0xc7: // bin8, str8, ext8
		l, err := uintAt(b, off+1, 1)
		if err != nil {
			return 0, err
		}
		hdr, n = 2, int(l)
		if t == 0xc7 {
			hdr++ // the ext type byte
		}
	case t == 0xc5 || t == 0xda || t == 0xc8 || t == 0xdc || t == 0xde: // 16-bit lengths
		l, err := uintAt(b, off+1, 2)
		if err != nil {
			return 0, err
		}
		hdr = 3
		switch t {
		case 0xdc:
			elems = int(l)
		case 0xde:
			elems = 2 * int(l)
		case 0xc8:
			hdr, n = 4, int(l)
		default:
			n = int(l)
		}
	case t == 0xc6 || t == 0xdb || t == 0xc9 || t == 0xdd || t == 0xdf: // 32-bit lengths
		l, err := uintAt(b, off+1, 4)
		if err != nil {
			return 0, err
		}
		if l > uint64(maxFrame) {
			return 0, &frameError{off, fmt.Sprintf("declared length %d over the %d-byte frame limit", l, maxFrame)}
		}
		hdr = 5
		switch t {
		case 0xdd:
			elems = int(l)
		case 0xdf:
			elems = 2 * int(l)
		case 0xc9:
			hdr, n = 6, int(l)
		default:
			n = int(l)
		}
	default: // 0xc1, never used
		return 0, &frameError{off, fmt.Sprintf("invalid type byte 0x%02x", t)}
	}
	if elems > maxFrame || hdr+n > maxFrame {
		return 0, &frameError{off, fmt.Sprintf("value over the %d-byte frame limit", maxFrame)}
	}
	end := off + hdr + n
	if end > len(b) {
		return 0, errIncomplete
	}
	for range elems {
		var err error
		if end, err = skipAt(b, end, maxFrame, depth+1); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// uintAt reads a big-endian unsigned integer of size bytes at b[off:].
func uintAt(b []byte, off, size int) (uint64, error) {
	if off+size > len(b) {
		return 0, errIncomplete
	}
	var v uint64
	for _, c := range b[off : off+size] {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// readUint reads a non-negative integer in any msgpack encoding at b[off:]
// and returns it and the offset after it.
func readUint(b []byte, off int) (uint64, int, error) {
	if off >= len(b) {
		return 0, 0, errIncomplete
	}
	t := b[off]
	size := 0
	signed := false
	switch {
	case t <= 0x7f:
		return uint64(t), off + 1, nil
	case t >= 0xcc && t <= 0xcf:
		size = 1 << (t - 0xcc)
	case t >= 0xd0 && t <= 0xd3:
		size, signed = 1<<(t-0xd0), true
	default:
		return 0, 0, &frameError{off, fmt.Sprintf("type byte 0x%02x where an unsigned integer belongs", t)}
	}
	v, err := uintAt(b, off+1, size)
	if err != nil {
		return 0, 0, err
	}
	if signed && v>>(8*size-1) != 0 {
		return 0, 0, &frameError{off, "negative integer where an unsigned one belongs"}
	}
	return v, off + 1 + size, nil
}

// response is one decoded MessagePack-RPC response. errVal and result are
// views into the buffer given to parseResponse.
type response struct {
	id     uint32
	errVal []byte // the encoded error value; 0xc0 (nil) on success
	result []byte // the encoded result value
}

// parseResponse decodes the response [1, msgid, error, result] at the start
// of b and returns it with its length in bytes.
func parseResponse(b []byte, maxFrame int) (response, int, error) {
	var r response
	n, err := parseResponseAt(b, maxFrame, &r)
	if err == errIncomplete && len(b) >= maxFrame {
		return r, 0, &frameError{0, fmt.Sprintf("response over the %d-byte frame limit", maxFrame)}
	}
	return r, n, err
}

func parseResponseAt(b []byte, maxFrame int, r *response) (int, error) {
	if len(b) == 0 {
		return 0, errIncomplete
	}
	if b[0] != 0x94 {
		return 0, &frameError{0, fmt.Sprintf("type byte 0x%02x where a 4-element array belongs", b[0])}
	}
	typ, off, err := readUint(b, 1)
	if err != nil {
		return 0, err
	}
	if typ != 1 {
		return 0, &frameError{1, fmt.Sprintf("message type %d, want 1 (response)", typ)}
	}
	id, idEnd, err := readUint(b, off)
	if err != nil {
		return 0, err
	}
	if id > 1<<32-1 {
		return 0, &frameError{off, fmt.Sprintf("msgid %d over 32 bits", id)}
	}
	errEnd, err := skipAt(b, idEnd, maxFrame, 1)
	if err != nil {
		return 0, err
	}
	end, err := skipAt(b, errEnd, maxFrame, 1)
	if err != nil {
		return 0, err
	}
	if end > maxFrame {
		return 0, &frameError{0, fmt.Sprintf("response over the %d-byte frame limit", maxFrame)}
	}
	r.id = uint32(id)
	r.errVal = b[idEnd:errEnd]
	r.result = b[errEnd:end]
	return end, nil
}

// Families of the payload values rpcload sends.
const (
	familyStr = "str"
	familyBin = "bin"
)

// strBin returns the family and contents of a str or bin value v (one whole
// value, as parseResponse returns it); ok is false for any other type.
func strBin(v []byte) (family string, data []byte, ok bool) {
	if len(v) == 0 {
		return "", nil, false
	}
	t := v[0]
	hdr := 0
	switch {
	case t&0xe0 == 0xa0:
		family, hdr = familyStr, 1
	case t == 0xd9:
		family, hdr = familyStr, 2
	case t == 0xda:
		family, hdr = familyStr, 3
	case t == 0xdb:
		family, hdr = familyStr, 5
	case t == 0xc4:
		family, hdr = familyBin, 2
	case t == 0xc5:
		family, hdr = familyBin, 3
	case t == 0xc6:
		family, hdr = familyBin, 5
	default:
		return "", nil, false
	}
	if hdr > len(v) {
		return "", nil, false
	}
	return family, v[hdr:], true // skip already checked that the length matches
}

// appendUint appends v in its shortest msgpack encoding, as real clients
// write msgids.
func appendUint(b []byte, v uint32) []byte {
	switch {
	case v <= 0x7f:
		return append(b, byte(v))
	case v <= 0xff:
		return append(b, 0xcc, byte(v))
	case v <= 0xffff:
		return append(b, 0xcd, byte(v>>8), byte(v))
	default:
		return append(b, 0xce, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// appendStrBin appends data as a str or bin value with the shortest header.
func appendStrBin(b []byte, family string, data []byte) []byte {
	n := len(data)
	if family == familyBin {
		switch {
		case n <= 0xff:
			b = append(b, 0xc4, byte(n))
		case n <= 0xffff:
			b = append(b, 0xc5, byte(n>>8), byte(n))
		default:
			b = append(b, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		}
		return append(b, data...)
	}
	switch {
	case n <= 31:
		b = append(b, 0xa0|byte(n))
	case n <= 0xff:
		b = append(b, 0xd9, byte(n))
	case n <= 0xffff:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, data...)
}

// requestTail is the part of a request after its msgid:
// method, then params [payload].
func requestTail(method, family string, payload []byte) []byte {
	b := appendStrBin(nil, familyStr, []byte(method))
	b = append(b, 0x91)
	return appendStrBin(b, family, payload)
}
