package http1

import (
	"bytes"
	"math"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// maxMethod is the longest method we accept; a longer one is answered 501.
const maxMethod = 32

// maxLimit bounds every configured size, so that offsets into a head fit
// in an int32.
const maxLimit = 1 << 30

// Parser parses HTTP/1.1 requests in place, within the limits it was made
// with. It holds nothing else, so one Parser may serve any number of
// goroutines at once; the state of a request being parsed lives in the
// caller's [Head] and [Chunked].
type Parser struct {
	lim codec.Limits
}

// NewParser returns a parser bounded by l; zero fields of l take their
// defaults ([codec.Limits.WithDefaults]).
func NewParser(l codec.Limits) *Parser {
	l = l.WithDefaults()
	l.MaxRequestLine = min(l.MaxRequestLine, maxLimit)
	l.MaxHeaderBytes = min(l.MaxHeaderBytes, maxLimit)
	l.MaxHeaders = min(l.MaxHeaders, maxLimit)
	return &Parser{lim: l}
}

// Limits returns the limits p enforces.
func (p *Parser) Limits() codec.Limits { return p.lim }

// Head is what [Parser.ParseHead] learns about a request besides the
// fields of [handlers.Request]: how the body is framed and what the client
// asked of the connection. It also remembers how far an incomplete head
// was checked, so that the next call does not look at those bytes again.
//
// The zero Head is ready for a new request; [Head.Reset] makes it so
// again.
type Head struct {
	// Len is the length of the head: an ignored leading empty line, the
	// request line, the field lines and the empty line that ends them.
	Len int
	// ContentLength is the value of the Content-Length field, or -1 when
	// there is none.
	ContentLength int64
	// Chunked reports "Transfer-Encoding: chunked": the body follows the
	// head in the chunked framing ([Parser.ParseChunked]).
	Chunked bool
	// Continue reports "Expect: 100-continue" in an HTTP/1.1 request.
	Continue bool
	// KeepAlive reports an HTTP/1.0 request that asked to stay open
	// ("Connection: keep-alive", and no "close"): the response must carry
	// "Connection: keep-alive" too.
	KeepAlive bool

	s scan
}

// Reset prepares h for a new request.
func (h *Head) Reset() { *h = Head{} }

// Complete reports whether the head was found complete by an earlier call
// of [Parser.ParseHead] (whose result h still holds).
func (h *Head) Complete() bool { return h.s.state == sDone }

// scan is where the check of a head, or of a trailer section, stopped. All
// offsets count from the start of the buffer being checked.
type scan struct {
	pos    int32 // next byte to examine
	line   int32 // start of the request line
	tok    int32 // start of the request target, then of the version
	base   int32 // start of the field section
	fields int32 // field lines seen
	state  uint8
}

// The states of the head scanner, in the order a head passes through them.
const (
	sStart   uint8 = iota // nothing seen: a leading CRLF may come
	sLeadCR               // after a leading CR
	sLeadLF               // after the leading CRLF: the request line starts
	sMethod               // in the method
	sTarget               // in the request target
	sVersion              // in the version
	sLineCR               // after the CR that ends the request line
	sField                // at the start of a field line or of the empty line
	sName                 // in a field name
	sValue                // in a field value
	sFieldCR              // after the CR that ends a field line
	sEndCR                // after the CR of the empty line
	sDone                 // the head is complete; pos is its length
)

// ParseHead parses the request head at the start of buf into req and h
// and returns its length. Nothing in buf is modified. req's views point
// into buf: Method, Target, Path, Query, Proto, Host, Headers (appended to
// req.Headers[:0], so give it the capacity of [codec.Limits].MaxHeaders to
// parse without allocating); Close is set when the connection must close
// after the response. Body is set to nil and Trailers to the empty slice
// that follows the headers in req.Headers' array (see
// [Parser.ParseChunked]). Other fields of req are left alone.
//
// When buf ends before the head does, ParseHead returns
// [codec.ErrIncomplete] and records in h how far it checked; call it again
// with the same h once more bytes have been appended to the same buffer.
// Every rule that can be checked on a prefix is checked on it, at the byte
// that breaks it, so a malformed head is refused as soon as it is sent, and
// with the same error however it was split. Otherwise the error is an
// [*Error] carrying the status to answer.
//
// After ParseHead has succeeded, calling it again with the same h and buf
// parses the same head again without checking it anew.
func (p *Parser) ParseHead(buf []byte, req *handlers.Request, h *Head) (int, error) {
	return p.parseHead(buf, req, h, nil)
}

// hostCache remembers the last Host value found valid, so that the
// requests of one goroutine, which mostly name the same host, skip most
// of its check. The zero hostCache is empty.
type hostCache struct{ last []byte }

// maxCachedHost bounds the copy a hostCache keeps.
const maxCachedHost = 128

// valid reports whether v is a valid Host value (validHost), remembering
// it if so.
func (c *hostCache) valid(v []byte) bool {
	if c == nil {
		return validHost(v)
	}
	if string(v) == string(c.last) && len(v) > 0 {
		return true
	}
	if !validHost(v) {
		return false
	}
	if len(v) <= maxCachedHost {
		c.last = append(c.last[:0], v...)
	}
	return true
}

// parseHead is ParseHead with a cache of the last valid Host value, or nil.
func (p *Parser) parseHead(buf []byte, req *handlers.Request, h *Head, hosts *hostCache) (int, error) {
	h.Len, h.ContentLength, h.Chunked, h.Continue, h.KeepAlive = 0, -1, false, false, false
	req.Method, req.Target, req.Path, req.Query, req.Proto = nil, nil, nil, nil, nil
	req.ProtoMajor, req.ProtoMinor = 0, 0
	req.Host, req.Body, req.Close = nil, nil, false
	req.Headers, req.Trailers = req.Headers[:0], nil
	// A head checked from its first byte in this call is recorded into
	// req as it is checked; one resumed from an earlier call, whose
	// records are gone, is split again once it is complete. The scan
	// state is updated in place (copying it in and out cost more than the
	// rest of ParseHead's own work); a head not started has the zero scan.
	rec := h.s.state == sStart
	var old scan
	var err error
	if rec {
		err = p.scanHead(buf, &h.s, req)
	} else {
		old = h.s
		err = p.scanHead(buf, &h.s, nil)
	}
	if err != nil {
		if err != codec.ErrIncomplete {
			h.s = old // a refusal is final: the next call finds it again
		}
		return 0, err
	}
	h.Len = int(h.s.pos)
	head := buf[:h.Len]
	if !rec {
		split(head, req)
	}
	if err := p.fill(head, req, h, hosts); err != nil {
		return 0, err
	}
	return h.Len, nil
}

// scanHead checks buf from s on, byte by byte, and moves s to where it
// stopped: at the end of the head (sDone), at the end of buf
// (codec.ErrIncomplete) or at a malformed byte (an *Error; s is then
// left part-way — its state may have moved on while its pos has not — and
// the caller restores it).
// When rec is not nil it also records there the method, target, version
// and field lines as it finds them.
func (p *Parser) scanHead(buf []byte, s *scan, rec *handlers.Request) error {
	if s.state == sDone {
		return nil
	}
	maxLine := p.lim.MaxRequestLine
	if s.state == sStart && rec != nil {
		if n := requestLine(buf, maxLine, rec); n > 0 {
			s.state, s.pos, s.base = sField, int32(n), int32(n)
			return scanFields(buf, s, p.lim.MaxHeaderBytes, p.lim.MaxHeaders, false, &rec.Headers)
		}
	}
	i := int(s.pos)
	for i < len(buf) && s.state < sField {
		c := buf[i]
		switch s.state {
		case sStart:
			switch c {
			case '\r':
				s.state = sLeadCR
				i++
			case '\n':
				return fail(400, msgBareLF, buf, i)
			default:
				s.state, s.line = sMethod, int32(i)
			}
		case sLeadCR:
			if c != '\n' {
				return fail(400, msgBareCR, buf, i-1)
			}
			s.state = sLeadLF
			i++
		case sLeadLF:
			if c == '\r' || c == '\n' {
				return fail(400, msgEmptyLines, buf, i)
			}
			s.state, s.line = sMethod, int32(i)
		case sMethod:
			line := int(s.line)
			e := min(len(buf), line+maxLine, line+maxMethod)
			j := i + tokenLen(buf[i:e])
			if j == len(buf) {
				i = j
				continue
			}
			c = buf[j]
			switch {
			case j-line >= maxLine && c != '\r':
				return fail(414, msgLineLong, buf, j)
			case tokenChar[c]:
				return fail(501, msgMethodLong, buf, j)
			case c == ' ' && j > line:
				if rec != nil {
					rec.Method = buf[line:j:j]
				}
				s.state, s.tok = sTarget, int32(j+1)
				i = j + 1
			default:
				return fail(400, msgRequestLine, buf, j)
			}
		case sTarget:
			line := int(s.line)
			e := min(len(buf), line+maxLine)
			j := i + targetLen(buf[i:e])
			if j == len(buf) {
				i = j
				continue
			}
			c = buf[j]
			switch {
			case j-line >= maxLine && c != '\r':
				return fail(414, msgLineLong, buf, j)
			case c == ' ' && j > int(s.tok):
				if rec != nil {
					rec.Target = buf[s.tok:j:j]
				}
				s.state, s.tok = sVersion, int32(j+1)
				i = j + 1
			case c == ' ':
				return fail(400, msgTargetEmpty, buf, j)
			case c == '\r':
				return fail(400, msgRequestLine, buf, j)
			default:
				return fail(400, msgTargetChar, buf, j)
			}
		case sVersion:
			if k := i - int(s.tok); k == 0 && len(buf)-i >= 10 && i+8-int(s.line) <= maxLine &&
				string(buf[i:i+5]) == "HTTP/" && isDigit(buf[i+5]) && buf[i+6] == '.' &&
				isDigit(buf[i+7]) && buf[i+8] == '\r' && buf[i+9] == '\n' {
				// The whole version and its CRLF at once, as usual.
				if rec != nil {
					rec.Proto = buf[i : i+8 : i+8]
				}
				i += 10
				s.state, s.base = sField, int32(i)
				continue
			}
			if i-int(s.line) >= maxLine && c != '\r' {
				return fail(414, msgLineLong, buf, i)
			}
			k := i - int(s.tok)
			if k == 8 {
				switch c {
				case '\r':
				case '\n':
					return fail(400, msgBareLF, buf, i)
				default:
					return fail(400, msgVersion, buf, i)
				}
				if rec != nil {
					rec.Proto = buf[s.tok:i:i]
				}
				s.state = sLineCR
			} else if !versionByte(k, c) {
				return fail(400, msgVersion, buf, i)
			}
			i++
		case sLineCR:
			if c != '\n' {
				return fail(400, msgBareCR, buf, i-1)
			}
			i++
			s.state, s.base = sField, int32(i)
		}
	}
	s.pos = int32(i)
	if s.state < sField {
		return codec.ErrIncomplete
	}
	var dst *[]handlers.Header
	if rec != nil {
		dst = &rec.Headers
	}
	return scanFields(buf, s, p.lim.MaxHeaderBytes, p.lim.MaxHeaders, false, dst)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// requestLine reads a well-formed request line at the start of buf, with
// no leading empty line and ending in CRLF, into rec and returns its
// length with the CRLF. It returns 0 for anything else, which the state
// machine of scanHead then reads byte by byte: requestLine only takes a
// shortcut through the usual case, it decides nothing.
func requestLine(buf []byte, maxLine int, rec *handlers.Request) int {
	var m int
	if len(buf) >= 4 && string(buf[:4]) == "GET " {
		m = 3 // the usual method, without the loop
	} else if m = tokenLen(buf); m == 0 || m > maxMethod || m >= len(buf) || buf[m] != ' ' {
		return 0
	}
	t := m + 1 + targetLen(buf[m+1:])
	if t == m+1 || t+11 > len(buf) || t+9 > maxLine || buf[t] != ' ' {
		return 0
	}
	v := buf[t+1 : t+11]
	if string(v[:5]) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7]) || v[8] != '\r' || v[9] != '\n' {
		return 0
	}
	rec.Method, rec.Target, rec.Proto = buf[:m:m], buf[m+1:t:t], v[:8:8]
	return t + 11
}

// versionByte reports whether c may be byte k of "HTTP/" DIGIT "." DIGIT.
func versionByte(k int, c byte) bool {
	switch k {
	case 5, 7:
		return isDigit(c)
	case 6:
		return c == '.'
	}
	return c == "HTTP/"[k]
}

// scanFields checks field lines from s on, up to and including the empty
// line that ends them: at most maxFields lines in at most maxBytes bytes
// counted from s.base. trailer selects the messages for a trailer section.
// When dst is not nil the fields are appended to it as they are found.
// While a line is read s.line is where its name starts and s.tok where
// its value does.
func scanFields(buf []byte, s *scan, maxBytes, maxFields int, trailer bool, dst *[]handlers.Header) error {
	i := int(s.pos)
	lim := int(s.base) + maxBytes // the first offset past the section's bound
	b := buf[:min(len(buf), lim)] // where the scan must stop
	e := len(b)
	// One line per turn, each step picking up where the last one left: a
	// turn may start in any state when resumed.
	for {
		if s.state == sField {
			if i >= e {
				break
			}
			switch c := buf[i]; {
			case c == '\r':
				s.state = sEndCR
			case c == '\n':
				return fail(400, msgBareLF, buf, i)
			case c == ' ' || c == '\t':
				return fail(400, msgObsFold, buf, i)
			case int(s.fields) >= maxFields:
				if trailer {
					return fail(431, msgTrailerMany, buf, i)
				}
				return fail(431, msgHeaderMany, buf, i)
			case c == ':':
				return fail(400, msgNameEmpty, buf, i)
			case !tokenChar[c]:
				return fail(400, msgNameChar, buf, i)
			default:
				s.fields++
				s.state, s.line = sName, int32(i)
			}
			i++
		}
		if s.state == sName {
			if i += tokenLen(b[i:]); i == e {
				break
			}
			switch buf[i] {
			case ':':
				s.state, s.tok = sValue, int32(i+1)
			case ' ', '\t':
				return fail(400, msgNameSpace, buf, i)
			case '\r':
				return fail(400, msgNoColon, buf, i)
			case '\n':
				return fail(400, msgBareLF, buf, i)
			default:
				return fail(400, msgNameChar, buf, i)
			}
			i++
		}
		if s.state == sValue {
			if i += valueLen(b[i:]); i == e {
				break
			}
			switch buf[i] {
			case '\r':
				if dst != nil {
					name := buf[s.line : s.tok-1 : s.tok-1]
					v := trimOWS(buf[s.tok:i:i])
					*dst = append(*dst, handlers.Header{Name: name, Value: v})
				}
				s.state = sFieldCR
			case '\n':
				return fail(400, msgBareLF, buf, i)
			default:
				return fail(400, msgValueChar, buf, i)
			}
			i++
		}
		if s.state == sFieldCR {
			if i >= e {
				break
			}
			if buf[i] != '\n' {
				return fail(400, msgBareCR, buf, i-1)
			}
			s.state = sField
			i++
			continue
		}
		if s.state == sEndCR {
			if i >= e {
				break
			}
			if buf[i] != '\n' {
				return fail(400, msgBareCR, buf, i-1)
			}
			s.state, s.pos = sDone, int32(i+1)
			return nil
		}
	}
	if i < len(buf) { // stopped at the bound, not at the end of buf
		if trailer {
			return fail(431, msgTrailerLarge, buf, i)
		}
		return fail(431, msgHeaderLarge, buf, i)
	}
	s.pos = int32(i)
	return codec.ErrIncomplete
}

// nextField splits the field line at pos, which scanFields has checked,
// and returns the offset of the next line.
func nextField(buf []byte, pos int) (name, value []byte, next int) {
	lf := pos + bytes.IndexByte(buf[pos:], '\n')
	line := buf[pos : lf-1]
	colon := bytes.IndexByte(line, ':')
	return line[:colon:colon], trimOWS(line[colon+1 : len(line) : len(line)]), lf + 1
}

// fields collects what the field lines of a head say about framing and
// persistence.
type fields struct {
	hostCheck       *hostCache // remembers valid Host values; or nil
	host            []byte
	hosts           int
	length          int64
	hasLength       bool
	te              bool // a Transfer-Encoding field was seen
	teChunked       bool // the last transfer coding so far is chunked
	teOther         bool // a coding other than chunked came before it
	close           bool
	keepAlive       bool
	expect, expectX bool // an Expect field; one that is not 100-continue
}

// split reads the method, target, version and field lines of the head
// buf, which scanHead has checked, into req.
func split(buf []byte, req *handlers.Request) {
	start := 0
	if buf[0] == '\r' {
		start = 2
	}
	lf := start + bytes.IndexByte(buf[start:], '\n')
	line := buf[start : lf-1 : lf-1]
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := sp1 + 1 + bytes.IndexByte(line[sp1+1:], ' ')
	req.Method, req.Target, req.Proto = line[:sp1:sp1], line[sp1+1:sp2:sp2], line[sp2+1:]
	for pos, end := lf+1, len(buf)-2; pos < end; {
		name, value, next := nextField(buf, pos)
		req.Headers = append(req.Headers, handlers.Header{Name: name, Value: value})
		pos = next
	}
}

// fill applies the rules that need the whole head buf, which scanHead has
// checked and whose parts are in req, and fills the rest of req and h.
func (p *Parser) fill(buf []byte, req *handlers.Request, h *Head, hosts *hostCache) error {
	method, version := req.Method, req.Proto
	req.ProtoMajor, req.ProtoMinor = int(version[5]-'0'), int(version[7]-'0')
	if req.ProtoMajor != 1 {
		return fail(505, msgVersionSupport, buf, lineOffset(buf, 2))
	}
	http11 := req.ProtoMinor >= 1 // 1.x with x >= 2 is served as 1.1
	if string(method) == "CONNECT" {
		return fail(501, msgConnect, buf, lineOffset(buf, 0))
	}
	if status, msg := parseTarget(method, req.Target, req); status != 0 {
		return fail(status, msg, buf, lineOffset(buf, 1))
	}

	f := fields{hostCheck: hosts}
	for i := range req.Headers {
		name := req.Headers[i].Name
		if c := name[0] | 0x20; c != 'h' && c != 'e' && c != 'c' && c != 't' {
			continue // the first letter, folded, rules out most fields at once
		}
		if status, msg := f.add(name, req.Headers[i].Value); status != 0 {
			return fail(status, msg, buf, fieldOffset(buf, i))
		}
	}
	req.Trailers = req.Headers[len(req.Headers):len(req.Headers)]

	end := len(buf) - 2
	switch {
	case http11 && f.hosts == 0:
		return fail(400, msgHostMissing, buf, end)
	case f.te && f.hasLength:
		return fail(400, msgCLTE, buf, end)
	case f.te && !http11:
		return fail(400, msgTE10, buf, end)
	case f.te && !f.teChunked:
		return fail(400, msgTENotFinal, buf, end)
	case f.te && f.teOther:
		return fail(501, msgTECoding, buf, end)
	case f.hasLength && f.length > p.lim.MaxBody:
		return fail(413, msgBodyLarge, buf, end)
	case http11 && f.expectX:
		return fail(417, msgExpect, buf, end)
	}
	if req.Host == nil {
		req.Host = f.host
	}
	h.Chunked = f.te
	if f.hasLength {
		h.ContentLength = f.length
	}
	h.Continue = http11 && f.expect
	if http11 {
		req.Close = f.close
	} else {
		req.Close = f.close || !f.keepAlive
		h.KeepAlive = !req.Close
	}
	return nil
}

// lineOffset returns the offset in the head buf of the method (part 0),
// the target (1) or the version (2). For error messages.
func lineOffset(buf []byte, part int) int {
	start := 0
	if buf[0] == '\r' {
		start = 2
	}
	off := start
	for ; part > 0; part-- {
		off += bytes.IndexByte(buf[off:], ' ') + 1
	}
	return off
}

// fieldOffset returns the offset in the head buf of field line i. For
// error messages.
func fieldOffset(buf []byte, i int) int {
	off := lineOffset(buf, 0)
	for ; i >= 0; i-- {
		off += bytes.IndexByte(buf[off:], '\n') + 1
	}
	return off
}

// add applies one field line; a non-zero status refuses the request.
func (f *fields) add(name, value []byte) (status int, msg string) {
	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			if f.hosts++; f.hosts > 1 {
				return 400, msgHostDup
			}
			if !f.hostCheck.valid(value) {
				return 400, msgHostBad
			}
			f.host = value
		}
	case 6:
		if equalFold(name, "expect") {
			f.expect = true
			f.expectX = f.expectX || !equalFold(value, "100-continue")
		}
	case 10:
		if equalFold(name, "connection") {
			for v := value; len(v) > 0; {
				var el []byte
				el, v = nextElement(v)
				switch {
				case equalFold(el, "close"):
					f.close = true
				case equalFold(el, "keep-alive"):
					f.keepAlive = true
				}
			}
		}
	case 14:
		switch {
		case equalFold(name, "content-length"):
			if f.hasLength {
				return 400, msgCLDup
			}
			n, ok := parseLength(value)
			if !ok {
				return 400, msgCLBad
			}
			f.length, f.hasLength = n, true
		case equalFoldDash(name, "content-length"):
			return 400, msgFramingName
		}
	case 17:
		switch {
		case equalFold(name, "transfer-encoding"):
			return f.addCodings(value)
		case equalFoldDash(name, "transfer-encoding"):
			return 400, msgFramingName
		}
	}
	return 0, ""
}

// equalFoldDash reports whether b is s, without regard to case, with '_'
// in place of one or more of its '-': "Content_Length",
// "Transfer_encoding". Gateways that map field names to CGI-style
// variables (HTTP_CONTENT_LENGTH) read such a name as the framing field,
// and a front end that does would frame the message differently from us,
// so a request that carries one is refused. b is a field name, a token,
// which is what makes the folding of equalFold exact here too.
func equalFoldDash(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i]|0x20 != s[i] && !(b[i] == '_' && s[i] == '-') {
			return false
		}
	}
	return true
}

// addCodings applies one Transfer-Encoding field. All such fields form one
// list, which must end in chunked, once. A coding with parameters, or an
// empty list element, is refused as malformed.
func (f *fields) addCodings(v []byte) (status int, msg string) {
	f.te = true
	for {
		i := bytes.IndexByte(v, ',')
		el := v
		if i >= 0 {
			el = v[:i]
		}
		el = trimOWS(el)
		if len(el) == 0 {
			return 400, msgTEBad
		}
		for _, c := range el {
			if !tokenChar[c] {
				return 400, msgTEBad
			}
		}
		if f.teChunked {
			return 400, msgTENotFinal
		}
		if equalFold(el, "chunked") {
			f.teChunked = true
		} else {
			f.teOther = true
		}
		if i < 0 {
			return 0, ""
		}
		v = v[i+1:]
	}
}

// nextElement splits the first element off a comma-separated list and
// returns it without surrounding whitespace, and the rest after the comma.
func nextElement(v []byte) (el, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return trimOWS(v[:i]), v[i+1:]
	}
	return trimOWS(v), nil
}

// parseLength parses 1*DIGIT into a non-negative int64.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseTarget sets req.Path, req.Query and, for the absolute-form,
// req.Host from the request-target t (RFC 9112 §3.2).
func parseTarget(method, t []byte, req *handlers.Request) (status int, msg string) {
	switch {
	case t[0] == '/':
		req.Path, req.Query = splitQuery(t)
	case len(t) == 1 && t[0] == '*':
		if string(method) != "OPTIONS" {
			return 400, msgAsterisk
		}
		req.Path = t
	default:
		n := schemeLen(t)
		if n == 0 {
			return 400, msgTargetForm // authority-form is only for CONNECT
		}
		rest := t[n:]
		k := 0
		for k < len(rest) && rest[k] != '/' && rest[k] != '?' {
			k++
		}
		if k == 0 || !validHost(rest[:k]) {
			return 400, msgAuthority
		}
		req.Host = rest[:k]
		switch {
		case k < len(rest) && rest[k] == '/':
			req.Path, req.Query = splitQuery(rest[k:])
		default:
			// No path: it is "/". Point at the last '/' of "://" so that
			// Path stays a view of the request.
			req.Path = t[n-1 : n : n]
			if k < len(rest) {
				req.Query = rest[k+1:]
			}
		}
	}
	return 0, ""
}

// schemeLen returns the length of a leading "http://" or "https://"
// (scheme compared without regard to case), or 0.
func schemeLen(t []byte) int {
	switch {
	case len(t) >= 7 && equalFold(t[:7], "http://"):
		return 7
	case len(t) >= 8 && equalFold(t[:8], "https://"):
		return 8
	}
	return 0
}

func splitQuery(t []byte) (path, query []byte) {
	if i := bytes.IndexByte(t, '?'); i >= 0 {
		return t[:i], t[i+1:]
	}
	return t, nil
}

// validHost reports whether b is uri-host [":" port] (RFC 9110 §7.2, RFC
// 3986 §3.2.2): a reg-name (which may be empty only without a port), or an
// IP literal in brackets made of hex digits, ':' and '.', then an optional
// port of digits. Userinfo, paths, whitespace and zone IDs are refused, and
// so is ',' (see hostChar), which RFC 3986 allows in a reg-name.
func validHost(b []byte) bool {
	i := 0
	if len(b) > 0 && b[0] == '[' {
		j := bytes.IndexByte(b, ']')
		if j < 2 {
			return false
		}
		for _, c := range b[1:j] {
			if unhex[c] == 0xff && c != ':' && c != '.' {
				return false
			}
		}
		i = j + 1
	} else {
		for {
			i += hostLen(b[i:])
			if i+2 >= len(b) || b[i] != '%' || unhex[b[i+1]] == 0xff || unhex[b[i+2]] == 0xff {
				break
			}
			i += 3
		}
		if i == 0 && len(b) > 0 {
			return false // a port without a host
		}
	}
	if i == len(b) {
		return true
	}
	if b[i] != ':' {
		return false
	}
	for _, c := range b[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
