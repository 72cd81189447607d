package http1

import (
	"bytes"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// MaxChunkExtBytes bounds the chunk extensions of one body, all chunks
// together: past it the request is refused with 400.
const MaxChunkExtBytes = 4 << 10

// Chunked is the state of a chunked body being parsed by
// [Parser.ParseChunked]: how far the bytes were checked, so that the next
// call does not look at them again. The zero Chunked is ready for a new
// body; [Chunked.Reset] makes it so again.
type Chunked struct {
	// Need is set with ErrIncomplete: the length buf must reach before
	// another call can tell more, when the parser knows it (inside chunk
	// data: through the byte after the data); 0 otherwise.
	Need int

	pos   int    // next byte to examine
	line  int    // start of the chunk-size line; of the trailer section in cTrailer
	size  int64  // chunk data so far, the current chunk's included
	rem   uint64 // the current chunk's size while its line is read, then the bytes left
	ext   int32  // chunk-extension bytes so far
	state uint8
	t     scan // the trailer section, offsets counted from line
}

// Reset prepares c for a new body.
func (c *Chunked) Reset() { *c = Chunked{} }

// The states of the chunked scanner.
const (
	cSize     uint8 = iota // in the hex digits of a chunk size
	cExt                   // after ';': an extension name starts
	cExtName               // in an extension name
	cExtVal                // after '=': a token or a quoted string starts
	cExtToken              // in a token value
	cExtQuote              // in a quoted string
	cExtEsc                // after '\' in a quoted string
	cExtEnd                // after a quoted string
	cSizeCR                // after the CR that ends a chunk-size line
	cData                  // in chunk data; rem bytes are left
	cDataCR                // after chunk data: CR expected
	cDataLF                // LF expected
	cTrailer               // in the trailer section (t)
	cDone                  // the body is complete; pos is its length
	cDecoded               // the body was decoded in place
)

// ParseChunked parses the chunked body at the start of buf (RFC 9112 §7.1)
// and returns its length in buf.
//
// First it checks, without modifying buf, that the whole body is there;
// if not it returns [codec.ErrIncomplete], records in c how far it got
// (and sets c.Need when it can), and leaves buf untouched, so the call can
// be repeated with the same c once more bytes have been appended. Then it
// decodes the body in place: the chunk data is moved together at the start
// of buf and req.Body is set to it; trailer fields are appended to
// req.Trailers, at most cap(req.Trailers)-len(req.Trailers) of them
// (ParseHead leaves the room the headers did not use there). The bytes of
// buf up to the returned length have then been rewritten: c must be Reset
// before it is used again.
//
// The grammar is RFC 9112's, stricter in one respect: no whitespace is
// allowed anywhere in a chunk-size line (the RFC allows BWS around the ';'
// and '=' of extensions). A chunk size is 1 to 16 hex digits; extensions
// are ';' name ['=' (token / quoted-string)], at most [MaxChunkExtBytes]
// per body; lines end in CRLF; the decoded body is bounded by MaxBody
// (413) and the trailer section by MaxHeaderBytes (431). Errors are
// [*Error]s with offsets counted from the start of buf.
func (p *Parser) ParseChunked(buf []byte, req *handlers.Request, c *Chunked) (int, error) {
	if err := p.scanChunked(buf, c, cap(req.Trailers)-len(req.Trailers)); err != nil {
		return 0, err
	}
	n := c.pos
	c.state = cDecoded
	r, w := 0, 0
	for {
		size := 0
		for ; unhex[buf[r]] != 0xff; r++ {
			size = size<<4 | int(unhex[buf[r]])
		}
		r += bytes.IndexByte(buf[r:], '\n') + 1
		if size == 0 {
			break
		}
		copy(buf[w:], buf[r:r+size])
		w += size
		r += size + 2
	}
	req.Body = buf[:w:w]
	for end := n - 2; r < end; {
		var name, value []byte
		name, value, r = nextField(buf, r)
		req.Trailers = append(req.Trailers, handlers.Header{Name: name, Value: value})
	}
	return n, nil
}

// scanChunked checks buf from c on and moves c to where it stopped: at
// the end of the body (cDone) or at the end of buf (codec.ErrIncomplete).
// At a malformed byte it returns an *Error and leaves c as it was, so
// that the next call finds the same error.
func (p *Parser) scanChunked(buf []byte, c *Chunked, maxTrailers int) error {
	w := *c
	err := p.scanChunkedFrom(buf, &w, maxTrailers)
	if err == nil || err == codec.ErrIncomplete {
		*c = w
	}
	return err
}

func (p *Parser) scanChunkedFrom(buf []byte, c *Chunked, maxTrailers int) error {
	switch c.state {
	case cDone:
		return nil
	case cDecoded:
		return fail(400, "chunked body decoded twice", buf, 0)
	}
	c.Need = 0
	maxBody := uint64(p.lim.MaxBody)
	i := c.pos
	for i < len(buf) && c.state < cTrailer {
		b := buf[i]
		if b == '\n' && c.state < cSizeCR {
			return fail(400, msgBareLF, buf, i)
		}
		if cExt <= c.state && c.state <= cExtEnd && b != '\r' {
			if c.ext++; c.ext > MaxChunkExtBytes {
				return fail(400, msgChunkExtLong, buf, i)
			}
		}
		switch c.state {
		case cSize:
			if d := unhex[b]; d != 0xff {
				if i-c.line >= 16 {
					return fail(400, msgChunkSizeLong, buf, i)
				}
				c.rem = c.rem<<4 | uint64(d)
				if c.rem > maxBody-uint64(c.size) {
					return fail(413, msgBodyLarge, buf, i)
				}
				break
			}
			switch {
			case i == c.line:
				return fail(400, msgChunkSize, buf, i)
			case b == '\r':
				c.state = cSizeCR
			case b == ';':
				if c.ext++; c.ext > MaxChunkExtBytes {
					return fail(400, msgChunkExtLong, buf, i)
				}
				c.state = cExt
			default:
				return fail(400, msgChunkSize, buf, i)
			}
		case cExt:
			if !tokenChar[b] {
				return fail(400, msgChunkExt, buf, i)
			}
			c.state = cExtName
		case cExtName, cExtToken:
			switch {
			case tokenChar[b]:
			case b == '=' && c.state == cExtName:
				c.state = cExtVal
			case b == ';':
				c.state = cExt
			case b == '\r':
				c.state = cSizeCR
			default:
				return fail(400, msgChunkExt, buf, i)
			}
		case cExtVal:
			switch {
			case b == '"':
				c.state = cExtQuote
			case tokenChar[b]:
				c.state = cExtToken
			default:
				return fail(400, msgChunkExt, buf, i)
			}
		case cExtQuote:
			switch {
			case b == '"':
				c.state = cExtEnd
			case b == '\\':
				c.state = cExtEsc
			case !qdText[b]:
				return fail(400, msgChunkExt, buf, i)
			}
		case cExtEsc:
			if !quotedPair[b] {
				return fail(400, msgChunkExt, buf, i)
			}
			c.state = cExtQuote
		case cExtEnd:
			switch b {
			case ';':
				c.state = cExt
			case '\r':
				c.state = cSizeCR
			default:
				return fail(400, msgChunkExt, buf, i)
			}
		case cSizeCR:
			if b != '\n' {
				return fail(400, msgBareCR, buf, i-1)
			}
			if c.rem == 0 {
				c.state, c.line = cTrailer, i+1
				c.t = scan{state: sField}
			} else {
				c.state = cData
				c.size += int64(c.rem)
			}
		case cData:
			n := int(min(c.rem, uint64(len(buf)-i)))
			c.rem -= uint64(n)
			i += n
			if c.rem == 0 {
				c.state = cDataCR
			}
			continue
		case cDataCR:
			if b != '\r' {
				return fail(400, msgChunkCRLF, buf, i)
			}
			c.state = cDataLF
		case cDataLF:
			if b != '\n' {
				return fail(400, msgChunkCRLF, buf, i)
			}
			c.state, c.line, c.rem = cSize, i+1, 0
		}
		i++
	}
	c.pos = i
	if c.state < cTrailer {
		if c.state == cData {
			// Nothing can be decided before the byte after the data,
			// which must be its CR.
			c.Need = i + int(c.rem) + 1
		}
		return codec.ErrIncomplete
	}
	base := c.line
	err := scanFields(buf[base:], &c.t, p.lim.MaxHeaderBytes, maxTrailers, true, nil)
	if err == nil {
		c.state, c.pos = cDone, base+int(c.t.pos)
		return nil
	}
	if e, ok := err.(*Error); ok {
		e.Offset += base
	}
	return err
}
