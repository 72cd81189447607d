package rpc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
)

// Bounds of the JSON side of the bridge (see [HTTP]).
const (
	// maxJSONParams is the most msgpack the params of one JSON body may
	// become: 16 MiB, four times the default body limit
	// ([codec.DefaultMaxBody]). A JSON byte becomes at most 3 bytes of
	// msgpack (a byte of invalid UTF-8 in a string becomes U+FFFD, `1e1`
	// a float64 of 9 bytes), so only a body limit raised past about
	// 5 MiB meets it.
	maxJSONParams = 16 << 20
	// maxJSONResult is the most JSON a result may become: 16 MiB. A
	// msgpack byte becomes at most about 12 bytes of JSON (an ext of one
	// byte inside a map key), so a result under about 1.3 MiB of msgpack
	// always fits.
	maxJSONResult = 16 << 20
)

// A jsonError is JSON params the bridge refuses: why, and the offset in
// the body where it was found. Like [json.SyntaxError], its message does
// not repeat the offset.
type jsonError struct {
	msg    string
	offset int
}

func (e *jsonError) Error() string { return e.msg }

// jsonSyntaxError describes why encoding/json refuses data, which it
// does: [json.Unmarshal] checks the whole text before it decodes
// anything, so it builds no value here.
func jsonSyntaxError(data []byte) error {
	var v struct{}
	var se *json.SyntaxError
	if err := json.Unmarshal(data, &v); !errors.As(err, &se) {
		return &jsonError{"invalid JSON", 0}
	}
	off := int(se.Offset)
	msg := se.Error()
	switch {
	case off == len(data) && msg == "unexpected end of JSON input":
		if skipSpace(data, 0) == len(data) {
			msg = "no JSON value"
		} else {
			msg = "unexpected EOF"
		}
	case strings.HasSuffix(msg, "exceeded max depth"): // 10000 levels
		msg = deepJSON
	case strings.HasSuffix(msg, "after top-level value") && off > 0 && off <= len(data):
		// The scanner counts the byte it complains about.
		switch data[off-1] {
		case '[', '{', '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 't', 'f', 'n':
			msg = "more than one JSON value"
		default:
			msg = "invalid data after the JSON value"
		}
	}
	return &jsonError{msg, off}
}

// A jsonConverter turns JSON params into msgpack (see [HTTP] for the
// mapping) in one pass over the text, building no values: what it keeps
// is the output, and the positions of the keys of the objects open at
// the moment (to refuse duplicates). Its zero value is ready to use. It
// keeps that scratch between calls, so it is for one goroutine at a time.
type jsonConverter struct {
	stack [mpack.DefaultMaxDepth]jsonFrame // the open arrays and objects, outermost first
	depth int                              // how many of stack are open
	base  int                              // len(dst) when the call began: the offsets below count from it

	// keys holds where the keys of the open objects are in the output,
	// each object's after its parents'. An object past linearKeys keys is
	// also in index, an open-addressed hash set of 1 + a position in keys
	// (0: free) whose entries are never removed: an entry is trusted only
	// for a position the object owns, so those of closed objects are
	// merely stale, until reindex drops them.
	keys  []jsonKey
	index []uint32
	used  int // slots of index taken, live or stale
}

// jsonKey is where a key's bytes are in the output, counted from
// jsonConverter.base. They stay there while its object is open: what
// moves is only ever after them.
type jsonKey struct{ off, n uint32 }

// jsonFrame is an open array or object.
type jsonFrame struct {
	start   int  // where in dst the 5 bytes reserved for its header are
	n       int  // elements, or pairs, so far
	keys    int  // where its keys begin in jsonConverter.keys
	object  bool // a map, not an array
	indexed bool // its keys are in jsonConverter.index
}

// linearKeys is how many keys an object has before its duplicates are
// looked for by hash rather than by comparing with each key.
const linearKeys = 8

// hashSeed keys the index: the keys come from the peer.
var hashSeed = maphash.MakeSeed()

// malformedJSON is the message of what cannot happen: the converter
// walks only text that json.Valid accepted. It stands for the panic the
// converter avoids.
const malformedJSON = "invalid JSON"

// deepJSON refuses what mpack.Walk would refuse after the conversion.
var deepJSON = "nesting deeper than " + strconv.Itoa(mpack.DefaultMaxDepth) + " arrays and objects"

// appendMsgpack appends the msgpack form of the one JSON value in data
// (see [HTTP] for the mapping): JSON that encoding/json refuses is
// refused, and so are a key repeated in one object, nesting deeper than
// [mpack.DefaultMaxDepth] arrays and objects, and an output over max
// bytes; the error is then a *jsonError. Before it is refused, the output
// grows past max by one value at most (a string: three times its JSON
// text) and the headers reserved for the open containers.
//
// data is only read, and not kept; the result is dst extended, which the
// caller owns. It allocates nothing but the output and, the first times,
// the converter's scratch.
func (c *jsonConverter) appendMsgpack(dst, data []byte, max int) ([]byte, error) {
	// Checking first keeps encoding/json's exact acceptance rules and
	// messages, and lets the walk below assume well-formed text. It
	// allocates nothing and is linear.
	if !json.Valid(data) {
		return dst, jsonSyntaxError(data)
	}
	c.depth, c.base, c.keys, c.index, c.used = 0, len(dst), c.keys[:0], c.index[:0], 0
	// The output is rarely larger than the text: reserving that much at
	// once spares the copies of growing by steps.
	dst = slices.Grow(dst, min(len(data), max)+mpack.DefaultMaxDepth*5)
	var err error
	i := skipSpace(data, 0)
	for {
		// A value begins at data[i].
		if i >= len(data) {
			return dst, &jsonError{malformedJSON, i}
		}
		switch data[i] {
		case '[', '{':
			if c.depth == len(c.stack) {
				return dst, &jsonError{deepJSON, i}
			}
			object := data[i] == '{'
			if i = skipSpace(data, i+1); i < len(data) && (data[i] == ']' || data[i] == '}') {
				if object {
					dst = mpack.AppendMapHeader(dst, 0)
				} else {
					dst = mpack.AppendArrayHeader(dst, 0)
				}
				i++
				break // the empty container is the value
			}
			f := &c.stack[c.depth]
			c.depth++
			*f = jsonFrame{start: len(dst), keys: len(c.keys), object: object}
			// The count comes last: reserve the largest header, then
			// write the smallest that fits and move the body up to it.
			dst = append(dst, 0, 0, 0, 0, 0)
			if object {
				if dst, i, err = c.key(dst, data, i, max); err != nil {
					return dst, err
				}
			}
			continue
		case '"':
			dst, i = appendJSONStr(dst, data, i)
		case 't':
			dst, i, err = appendJSONWord(dst, data, i, "true", 0xc3)
		case 'f':
			dst, i, err = appendJSONWord(dst, data, i, "false", 0xc2)
		case 'n':
			dst, i, err = appendJSONWord(dst, data, i, "null", 0xc0)
		default:
			dst, i, err = appendJSONNumber(dst, data, i)
		}
		if err != nil {
			return dst, err
		}
		// The value ended: count it in its container, and close the
		// containers that end with it.
		for {
			if c.over(dst, max) {
				return dst, tooLargeParams(max, i)
			}
			i = skipSpace(data, i)
			if c.depth == 0 {
				if i != len(data) {
					return dst, &jsonError{malformedJSON, i}
				}
				return dst, nil
			}
			f := &c.stack[c.depth-1]
			f.n++
			if i < len(data) && data[i] == ',' {
				i = skipSpace(data, i+1)
				if f.object {
					if dst, i, err = c.key(dst, data, i, max); err != nil {
						return dst, err
					}
				}
				break
			}
			if i >= len(data) || (data[i] != ']' && data[i] != '}') {
				return dst, &jsonError{malformedJSON, i}
			}
			dst = c.close(dst)
			i++
		}
	}
}

// over reports whether the output must end up over max bytes: an open
// container gives back at most 4 of the 5 bytes reserved for its header.
// At the end, with none open, the answer is exact.
func (c *jsonConverter) over(dst []byte, max int) bool {
	return len(dst)-c.base-4*c.depth > max
}

func tooLargeParams(max, off int) error {
	return &jsonError{"too large as msgpack (over " + sizeText(max) + ")", off}
}

// sizeText writes n bytes for a message.
func sizeText(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// close writes the header of the innermost container, which ends at the
// end of dst, and drops it from the stack.
func (c *jsonConverter) close(dst []byte) []byte {
	c.depth--
	f := &c.stack[c.depth]
	var h [5]byte
	var hdr []byte
	if f.object {
		hdr = mpack.AppendMapHeader(h[:0], uint32(f.n))
		c.keys = c.keys[:f.keys]
	} else {
		hdr = mpack.AppendArrayHeader(h[:0], uint32(f.n))
	}
	return putHeader(dst, f.start, 5, hdr)
}

// putHeader writes hdr over the room bytes reserved at dst[at:] and
// moves what follows them up to it.
func putHeader(dst []byte, at, room int, hdr []byte) []byte {
	copy(dst[at:], hdr)
	if len(hdr) == room {
		return dst
	}
	n := copy(dst[at+len(hdr):], dst[at+room:])
	return dst[:at+len(hdr)+n]
}

// key appends the key that begins at data[i] in the innermost object,
// refusing a duplicate, and returns the offset of its value.
func (c *jsonConverter) key(dst, data []byte, i, max int) ([]byte, int, error) {
	if i >= len(data) || data[i] != '"' {
		return dst, i, &jsonError{malformedJSON, i}
	}
	at := i
	off := len(dst)
	dst, i = appendJSONStr(dst, data, i)
	if c.over(dst, max) {
		return dst, i, tooLargeParams(max, at)
	}
	if err := c.addKey(dst, off); err != nil {
		err.offset = at
		return dst, i, err
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return dst, i, &jsonError{malformedJSON, i}
	}
	return dst, skipSpace(data, i+1), nil
}

// keyAt returns the bytes of k.
func (c *jsonConverter) keyAt(dst []byte, k jsonKey) []byte {
	at := c.base + int(k.off)
	return dst[at : at+int(k.n)]
}

// addKey records the key just written at dst[off:], at the end of dst,
// in the innermost object, unless the object has it already.
func (c *jsonConverter) addKey(dst []byte, off int) *jsonError {
	f := &c.stack[c.depth-1]
	k, _, _ := mpack.ReadStr(dst[off:])
	key := jsonKey{uint32(len(dst) - len(k) - c.base), uint32(len(k))}
	if !f.indexed {
		for _, o := range c.keys[f.keys:] {
			if o.n == key.n && bytes.Equal(c.keyAt(dst, o), k) {
				return duplicateKey(k)
			}
		}
		c.keys = append(c.keys, key)
		if len(c.keys)-f.keys < linearKeys {
			return nil
		}
		f.indexed = true
		if c.used+linearKeys > len(c.index)*3/4 {
			c.reindex(dst)
			return nil
		}
		for p := f.keys; p < len(c.keys); p++ {
			c.insert(p, maphash.Bytes(hashSeed, c.keyAt(dst, c.keys[p])))
		}
		return nil
	}
	h := maphash.Bytes(hashSeed, k)
	mask := uint64(len(c.index) - 1)
	for s := h & mask; c.index[s] != 0; s = (s + 1) & mask {
		if p := int(c.index[s] - 1); p >= f.keys && p < len(c.keys) && c.keys[p].n == key.n && bytes.Equal(c.keyAt(dst, c.keys[p]), k) {
			return duplicateKey(k)
		}
	}
	c.keys = append(c.keys, key)
	if c.used+1 > len(c.index)*3/4 {
		c.reindex(dst)
	} else {
		c.insert(len(c.keys)-1, h)
	}
	return nil
}

// insert puts position p of keys, whose key hashes to h, in the index,
// which has a free slot.
func (c *jsonConverter) insert(p int, h uint64) {
	mask := uint64(len(c.index) - 1)
	s := h & mask
	for c.index[s] != 0 {
		s = (s + 1) & mask
	}
	c.index[s] = uint32(p + 1)
	c.used++
}

// reindex rebuilds the index from the keys of the open indexed objects,
// at least twice as large as they need, so that the next rebuild is as
// many insertions away as this one costs.
func (c *jsonConverter) reindex(dst []byte) {
	live := 0
	for d := range c.depth {
		if c.stack[d].indexed {
			live += c.keysEnd(d) - c.stack[d].keys
		}
	}
	size := 64
	for size < 2*live {
		size *= 2
	}
	if cap(c.index) >= size {
		c.index = c.index[:size]
		clear(c.index)
	} else {
		c.index = make([]uint32, size)
	}
	c.used = 0
	for d := range c.depth {
		if c.stack[d].indexed {
			for p := c.stack[d].keys; p < c.keysEnd(d); p++ {
				c.insert(p, maphash.Bytes(hashSeed, c.keyAt(dst, c.keys[p])))
			}
		}
	}
}

// keysEnd is where the keys of the container at depth d end in keys.
func (c *jsonConverter) keysEnd(d int) int {
	if d+1 < c.depth {
		return c.stack[d+1].keys
	}
	return len(c.keys)
}

func duplicateKey(k []byte) *jsonError {
	return &jsonError{msg: string(codec.AppendQuoted([]byte("duplicate key "), k))}
}

// shrink lets go of scratch grown by an exceptional body, as the bridge
// does of its buffers.
func (c *jsonConverter) shrink() {
	if cap(c.keys) > 2<<10 {
		c.keys = nil
	}
	if cap(c.index) > 16<<10 {
		c.index = nil
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
		i++
	}
	return i
}

// appendJSONWord appends the msgpack byte b for the literal word at
// data[i:].
func appendJSONWord(dst, data []byte, i int, word string, b byte) ([]byte, int, error) {
	if !bytes.HasPrefix(data[i:], []byte(word)) {
		return dst, i, &jsonError{malformedJSON, i}
	}
	return append(dst, b), i + len(word), nil
}

// appendJSONNumber appends the number at data[i:] as an int when its
// text is an integer in the int64 range, a uint when one above it up to
// 2^64-1, or else a float64 (the choice strconv.ParseInt, then ParseUint,
// then ParseFloat make), and returns the offset after it.
func appendJSONNumber(dst, data []byte, i int) ([]byte, int, error) {
	// Integers of up to 19 digits, which fit in a uint64, are read here:
	// most numbers are, and strconv's failures would allocate an error
	// for each one that is not an integer.
	j := i
	neg := j < len(data) && data[j] == '-'
	if neg {
		j++
	}
	if j == len(data) || data[j]-'0' > 9 {
		return dst, i, &jsonError{malformedJSON, i}
	}
	var u uint64
	for k := j; j < len(data) && data[j]-'0' <= 9 && j-k < 19; j++ {
		u = u*10 + uint64(data[j]-'0')
	}
	if j == len(data) || !isNumberByte(data[j]) {
		switch {
		case !neg:
			return mpack.AppendUint(dst, u), j, nil // AppendInt writes the same
		case u <= 1<<63:
			return mpack.AppendInt(dst, int64(-u)), j, nil
		}
	}
	// A 20th digit may still make a uint64.
	if !neg && j < len(data) && data[j]-'0' <= 9 && (j+1 == len(data) || !isNumberByte(data[j+1])) {
		if d := uint64(data[j] - '0'); u <= (math.MaxUint64-d)/10 {
			return mpack.AppendUint(dst, u*10+d), j + 1, nil
		}
	}
	for j < len(data) && isNumberByte(data[j]) {
		j++
	}
	num := data[i:j]
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		if len(num) > codec.MaxQuoted {
			num = append(num[:codec.MaxQuoted:codec.MaxQuoted], "..."...)
		}
		return dst, i, &jsonError{"number " + string(num) + " out of range", i}
	}
	return mpack.AppendFloat64(dst, f), j, nil
}

// isNumberByte reports whether c may be part of a JSON number.
func isNumberByte(c byte) bool {
	return c-'0' <= 9 || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// appendJSONStr appends the string at data[i:] (at its opening quote) as
// a str, unescaped as encoding/json unescapes (a lone surrogate and
// invalid UTF-8 become U+FFFD), and returns the offset after it.
func appendJSONStr(dst, data []byte, i int) ([]byte, int) {
	i++
	// Most strings need no change: up to the first quote, no backslash
	// and valid UTF-8.
	if q := bytes.IndexByte(data[i:], '"'); q >= 0 {
		raw := data[i : i+q]
		if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			return mpack.AppendStrBytes(dst, raw), i + q + 1
		}
	}
	start := i
	for i < len(data) && data[i] != '"' {
		if data[i] == '\\' {
			i++
		}
		i++
	}
	raw := data[start:min(i, len(data))]
	i++ // the closing quote
	// Unescaped, the text is at most 3 times as long (a byte of invalid
	// UTF-8 becomes U+FFFD): reserve the header for that, then write the
	// one that fits.
	var h [5]byte
	room := len(appendStrHeader(h[:0], 3*len(raw)))
	at := len(dst)
	dst = append(dst, h[:room]...)
	dst = unescapeJSON(dst, raw)
	return putHeader(dst, at, room, appendStrHeader(h[:0], len(dst)-at-room)), i
}

// appendStrHeader appends the header of a str of n bytes, as
// [mpack.AppendStrBytes] writes it.
func appendStrHeader(dst []byte, n int) []byte {
	switch {
	case n < 32:
		return append(dst, 0xa0|byte(n))
	case n <= math.MaxUint8:
		return append(dst, 0xd9, byte(n))
	case n <= math.MaxUint16:
		return append(dst, 0xda, byte(n>>8), byte(n))
	}
	return append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// unescapeJSON appends the text of the JSON string whose inside is raw,
// as encoding/json's unquote makes it.
func unescapeJSON(dst, raw []byte) []byte {
	for r := 0; r < len(raw); {
		// Copy what needs no change in one go.
		j := r
		for j < len(raw) {
			if c := raw[j]; c == '\\' {
				break
			} else if c < utf8.RuneSelf {
				j++
				continue
			}
			rr, size := utf8.DecodeRune(raw[j:])
			if rr == utf8.RuneError && size == 1 {
				break
			}
			j += size
		}
		dst = append(dst, raw[r:j]...)
		if r = j; r == len(raw) {
			break
		}
		if raw[r] != '\\' {
			// A byte that is not UTF-8.
			dst = utf8.AppendRune(dst, utf8.RuneError)
			r++
			continue
		}
		if r+1 == len(raw) {
			break // cannot happen: the text is valid
		}
		switch c := raw[r+1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			rr := hex4(raw[r:])
			if rr < 0 {
				return dst // cannot happen: the text is valid
			}
			r += 6
			if utf16.IsSurrogate(rr) {
				if dec := utf16.DecodeRune(rr, hex4(raw[r:])); dec != unicode.ReplacementChar {
					dst = utf8.AppendRune(dst, dec)
					r += 6
					continue
				}
				rr = unicode.ReplacementChar
			}
			dst = utf8.AppendRune(dst, rr)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		r += 2
	}
	return dst
}

// hex4 reads the \uXXXX at the start of s, or returns -1.
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		d := unhex(c)
		if d < 0 {
			return -1
		}
		r = r<<4 | rune(d)
	}
	return r
}

// appendJSONFromMsgpack appends the JSON form of the one msgpack value at
// the start of b, which must have been walked (see [HTTP] for the
// mapping). It fails with errTooLargeJSON (whose message names
// maxJSONResult, the max the bridge passes) rather than append more than
// max bytes, and with errNotFinite for NaN or an infinity; dst then holds
// part of the text. b is only read; the result is dst extended.
func appendJSONFromMsgpack(dst, b []byte, max int) ([]byte, error) {
	dst, _, err := appendValueJSON(dst, b, len(dst)+max, 0, false)
	return dst, err
}

var (
	errNotFinite    = errors.New("NaN or an infinity has no JSON form")
	errTooLargeJSON = errors.New("too large as JSON (over " + sizeText(maxJSONResult) + ")") // the bridge's limit
	errMsgpack      = errors.New("malformed msgpack")
)

// appendValueJSON appends the JSON of the msgpack value at the start of b
// to dst, which it does not let grow past limit bytes, and returns what
// follows the value in b. inKey tells that the text is part of a map key
// being written, which is escaped into a JSON string once it is complete.
// The other append*JSON below work alike.
func appendValueJSON(dst, b []byte, limit, depth int, inKey bool) ([]byte, []byte, error) {
	if depth > mpack.MaxDepthLimit {
		return dst, b, errMsgpack // cannot happen: b was walked
	}
	var err error
	at := len(dst)
	// Scalars are written here, not by a call to appendScalarJSON: arrays
	// of numbers are common, and the call made them a quarter slower.
	switch mpack.NextType(b) {
	case mpack.NilType:
		b, err = mpack.ReadNil(b)
		dst = append(dst, "null"...)
	case mpack.BoolType:
		var v bool
		v, b, err = mpack.ReadBool(b)
		dst = strconv.AppendBool(dst, v)
	case mpack.IntType:
		var v int64
		v, b, err = mpack.ReadInt(b)
		dst = strconv.AppendInt(dst, v, 10)
	case mpack.UintType:
		var v uint64
		v, b, err = mpack.ReadUint(b)
		dst = strconv.AppendUint(dst, v, 10)
	case mpack.FloatType:
		dst, b, err = appendScalarJSON(dst, b, mpack.FloatType)
	case mpack.StrType:
		return appendStrJSON(dst, b, limit)
	case mpack.BinType:
		var v []byte
		if v, b, err = mpack.ReadBin(b); err != nil {
			return dst, b, err
		}
		if base64.StdEncoding.EncodedLen(len(v))+2 > limit-len(dst) {
			return dst, b, errTooLargeJSON
		}
		return appendBase64(dst, v), b, nil
	case mpack.ExtType:
		var typ int8
		var v []byte
		if typ, v, b, err = mpack.ReadExt(b); err != nil {
			return dst, b, err
		}
		var num [4]byte
		if len(`{"type":,"data":""}`)+len(strconv.AppendInt(num[:0], int64(typ), 10))+base64.StdEncoding.EncodedLen(len(v)) > limit-len(dst) {
			return dst, b, errTooLargeJSON
		}
		dst = append(dst, `{"type":`...)
		dst = strconv.AppendInt(dst, int64(typ), 10)
		dst = append(dst, `,"data":`...)
		return append(appendBase64(dst, v), '}'), b, nil
	case mpack.ArrayType:
		var n int
		if n, b, err = mpack.ReadArrayHeader(b); err != nil {
			return dst, b, err
		}
		for i := range n {
			if len(dst) >= limit {
				return dst, b, errTooLargeJSON
			}
			dst = append(dst, sep(i, '['))
			if dst, b, err = appendValueJSON(dst, b, limit, depth+1, inKey); err != nil {
				return dst, b, err
			}
		}
		return appendEnd(dst, b, limit, n, '[', ']')
	case mpack.MapType:
		var n int
		if n, b, err = mpack.ReadMapHeader(b); err != nil {
			return dst, b, err
		}
		for i := range n {
			if len(dst) >= limit {
				return dst, b, errTooLargeJSON
			}
			dst = append(dst, sep(i, '{'))
			if mpack.NextType(b) == mpack.StrType { // most keys
				dst, b, err = appendStrJSON(dst, b, limit)
			} else {
				dst, b, err = appendKeyJSON(dst, b, limit, depth+1, inKey)
			}
			if err != nil {
				return dst, b, err
			}
			if len(dst) >= limit {
				return dst, b, errTooLargeJSON
			}
			dst = append(dst, ':')
			if dst, b, err = appendValueJSON(dst, b, limit, depth+1, inKey); err != nil {
				return dst, b, err
			}
		}
		return appendEnd(dst, b, limit, n, '{', '}')
	default:
		return dst, b, errMsgpack
	}
	// A scalar: its text is short, so it is written, then taken back if
	// it went past the limit.
	if err == nil && len(dst) > limit {
		return dst[:at], b, errTooLargeJSON
	}
	return dst, b, err
}

// sep is what goes before element i: the bracket open before the first,
// a comma before the others.
func sep(i int, open byte) byte {
	if i == 0 {
		return open
	}
	return ','
}

// appendEnd closes an array or object of n elements, opening it first
// when there were none.
func appendEnd(dst, b []byte, limit, n int, open, close byte) ([]byte, []byte, error) {
	if n == 0 {
		if len(dst)+2 > limit {
			return dst, b, errTooLargeJSON
		}
		return append(dst, open, close), b, nil
	}
	if len(dst) >= limit {
		return dst, b, errTooLargeJSON
	}
	return append(dst, close), b, nil
}

// appendKeyJSON appends a map key as a JSON string. A string is itself; a
// nil, bool or number is its JSON text in quotes; an array, map, bin or
// ext is its JSON text escaped into a string. Inside that text (inKey)
// such a key is left as its text, not escaped again: each level would
// double the backslashes of the levels within.
func appendKeyJSON(dst, b []byte, limit, depth int, inKey bool) ([]byte, []byte, error) {
	switch t := mpack.NextType(b); t {
	case mpack.StrType:
		return appendStrJSON(dst, b, limit)
	case mpack.NilType, mpack.BoolType, mpack.IntType, mpack.UintType, mpack.FloatType:
		at := len(dst)
		dst, b, err := appendScalarJSON(append(dst, '"'), b, t)
		if dst = append(dst, '"'); err == nil && len(dst) > limit {
			return dst[:at], b, errTooLargeJSON
		}
		return dst, b, err
	}
	if inKey {
		return appendValueJSON(dst, b, limit, depth, true)
	}
	at := len(dst)
	dst, b, err := appendValueJSON(dst, b, limit, depth, true)
	if err != nil {
		return dst, b, err
	}
	// Escape the text in place, from the end. It is JSON written here:
	// its strings are escaped already, so it holds no control character,
	// only '"' and '\\' to escape, and is then exactly what
	// handlers.AppendJSONString makes of it.
	text := dst[at:]
	more := bytes.Count(text, []byte{'"'}) + bytes.Count(text, []byte{'\\'})
	if more+2 > limit-len(dst) {
		return dst, b, errTooLargeJSON
	}
	end := len(dst)
	dst = slices.Grow(dst, more+2)[:end+more+2]
	j := len(dst) - 1
	dst[j] = '"'
	for k := end - 1; k >= at; k-- {
		c := dst[k]
		j--
		dst[j] = c
		if c == '"' || c == '\\' {
			j--
			dst[j] = '\\'
		}
	}
	dst[at] = '"'
	return dst, b, nil
}

// appendStrJSON appends a str.
func appendStrJSON(dst, b []byte, limit int) ([]byte, []byte, error) {
	v, b, err := mpack.ReadStr(b)
	if err != nil {
		return dst, b, err
	}
	// 6 bytes a byte (\u00XX) at most: count exactly only when that could
	// be too many.
	if 6*len(v)+2 > limit-len(dst) && jsonStringLen(v) > limit-len(dst) {
		return dst, b, errTooLargeJSON
	}
	return handlers.AppendJSONString(dst, v), b, nil
}

// appendScalarJSON appends the JSON text of the nil, bool, int, uint or
// float (type t) at the start of b.
func appendScalarJSON(dst, b []byte, t mpack.Type) ([]byte, []byte, error) {
	var err error
	switch t {
	case mpack.NilType:
		b, err = mpack.ReadNil(b)
		return append(dst, "null"...), b, err
	case mpack.BoolType:
		var v bool
		v, b, err = mpack.ReadBool(b)
		return strconv.AppendBool(dst, v), b, err
	case mpack.IntType:
		var v int64
		v, b, err = mpack.ReadInt(b)
		return strconv.AppendInt(dst, v, 10), b, err
	case mpack.UintType:
		var v uint64
		v, b, err = mpack.ReadUint(b)
		return strconv.AppendUint(dst, v, 10), b, err
	case mpack.FloatType:
		var v float64
		v, b, err = mpack.ReadFloat64(b)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			err = errNotFinite
		}
		return strconv.AppendFloat(dst, v, 'g', -1, 64), b, err
	}
	return dst, b, errMsgpack
}

// jsonStringLen is the length of handlers.AppendJSONString(nil, s).
func jsonStringLen(s []byte) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20 || c == 0x7f:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

func appendBase64(dst, v []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, v)
	return append(dst, '"')
}
