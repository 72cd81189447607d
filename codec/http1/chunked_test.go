package http1

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// chunkedTests are chunked bodies with what ParseChunked must make of
// them: the decoded body and trailers, or an error. Limits: MaxBody 64,
// MaxHeaderBytes 40, room for 3 trailer fields.
var chunkedTests = []struct {
	name   string
	in     string
	want   string // "body=... trailers" when accepted
	status int
	msg    string
}{
	{name: "empty", in: "0\r\n\r\n", want: `body="" n=5`},
	{name: "one chunk", in: "5\r\nhello\r\n0\r\n\r\n", want: `body="hello" n=15`},
	{name: "two chunks", in: "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", want: `body="hello world" n=26`},
	{name: "hex digits", in: "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n", want: `body="0123456789abcdefghijk" n=36`},
	{name: "leading zeros", in: "0005\r\nhello\r\n000\r\n\r\n", want: `body="hello" n=20`},
	{name: "16 digits", in: "0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n", want: `body="hello" n=45`},
	{name: "CRLF in data", in: "4\r\n\r\n\r\n\r\n0\r\n\r\n", want: `body="\r\n\r\n" n=14`},
	{name: "binary data", in: "3\r\n\x00\xff\n\r\n0\r\n\r\n", want: `body="\x00\xff\n" n=13`},
	{name: "extension", in: "5;a\r\nhello\r\n0\r\n\r\n", want: `body="hello" n=17`},
	{name: "extension with token", in: "5;a=b\r\nhello\r\n0;last=1\r\n\r\n", want: `body="hello" n=26`},
	{name: "extensions", in: "5;a=b;c;d=e\r\nhello\r\n0\r\n\r\n", want: `body="hello" n=25`},
	{name: "quoted extension", in: "5;a=\"b; c=\\\"d\\\\\"\r\nhello\r\n0\r\n\r\n", want: `body="hello" n=30`},
	{name: "quoted extension empty", in: "5;a=\"\"\r\nhello\r\n0\r\n\r\n", want: `body="hello" n=20`},
	{name: "trailers", in: "5\r\nhello\r\n0\r\nX-A: 1\r\nx-b:\t2 \r\n\r\n", want: `body="hello" n=32 trailer[X-A="1"] trailer[x-b="2"]`},
	{name: "trailers at count limit", in: "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", want: `body="" n=23 trailer[A="1"] trailer[B="2"] trailer[C="3"]`},
	{name: "trailers at byte limit", in: "0\r\nA: " + strings.Repeat("v", 33) + "\r\n\r\n", want: `body="" n=43 trailer[A="` + strings.Repeat("v", 33) + `"]`},
	{name: "body at limit", in: "40\r\n" + strings.Repeat("x", 64) + "\r\n0\r\n\r\n", want: `body="` + strings.Repeat("x", 64) + `" n=75`},
	{name: "body at limit in chunks", in: "20\r\n" + strings.Repeat("x", 32) + "\r\n20\r\n" + strings.Repeat("y", 32) + "\r\n0\r\n\r\n",
		want: `body="` + strings.Repeat("x", 32) + strings.Repeat("y", 32) + `" n=81`},

	{name: "no size", in: "\r\n\r\n", status: 400, msg: msgChunkSize},
	{name: "0x prefix", in: "0x5\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkSize},
	{name: "negative", in: "-5\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkSize},
	{name: "plus", in: "+5\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkSize},
	{name: "leading space", in: " 5\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkSize},
	{name: "trailing space", in: "5 \r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkSize},
	{name: "tab", in: "5\t\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkSize},
	{name: "space before extension", in: "5 ;a\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkSize},
	{name: "non-hex", in: "5g\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkSize},
	{name: "17 digits", in: "00000000000000005\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkSizeLong},
	{name: "17 digit zero", in: "00000000000000000\r\n\r\n", status: 400, msg: msgChunkSizeLong},
	{name: "huge size", in: "ffffffffffffffff\r\n", status: 413, msg: msgBodyLarge},
	{name: "over body limit", in: "41\r\n", status: 413, msg: msgBodyLarge},
	{name: "over body limit in chunks", in: "20\r\n" + strings.Repeat("x", 32) + "\r\n21\r\n", status: 413, msg: msgBodyLarge},
	{name: "bare LF after size", in: "5\nhello\r\n0\r\n\r\n", status: 400, msg: msgBareLF},
	{name: "bare CR after size", in: "5\rhello\r\n0\r\n\r\n", status: 400, msg: msgBareCR},
	{name: "bare LF after data", in: "5\r\nhello\n0\r\n\r\n", status: 400, msg: msgChunkCRLF},
	{name: "bare CR after data", in: "5\r\nhello\r0\r\n\r\n", status: 400, msg: msgChunkCRLF},
	{name: "data too long", in: "5\r\nhello!\r\n0\r\n\r\n", status: 400, msg: msgChunkCRLF},
	{name: "data too short", in: "5\r\nhell\r\n0\r\n\r\n", status: 400, msg: msgChunkCRLF},
	{name: "bare LF after last chunk", in: "0\n\r\n", status: 400, msg: msgBareLF},
	{name: "bare LF ending trailers", in: "0\r\n\n", status: 400, msg: msgBareLF},
	{name: "empty extension", in: "5;\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "space in extension", in: "5; a\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "space before =", in: "5;a =b\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "space after =", in: "5;a= b\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "extension without name", in: "5;=b\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "extension without value", in: "5;a=\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "extension double =", in: "5;a=b=c\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "unterminated quote", in: "5;a=\"b\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "text after quote", in: "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "control in quote", in: "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", status: 400, msg: msgChunkExt},
	{name: "bare LF in extension", in: "5;a\nhello\r\n0\r\n\r\n", status: 400, msg: msgBareLF},
	{name: "extensions too long", in: "1;a=" + strings.Repeat("b", MaxChunkExtBytes) + "\r\nx\r\n0\r\n\r\n", status: 400, msg: msgChunkExtLong},
	{name: "extensions too long together", in: "1;a=" + strings.Repeat("b", MaxChunkExtBytes/2) + "\r\nx\r\n0;a=" + strings.Repeat("b", MaxChunkExtBytes/2) + "\r\n\r\n", status: 400, msg: msgChunkExtLong},
	{name: "trailer obs-fold", in: "0\r\nA: 1\r\n 2\r\n\r\n", status: 400, msg: msgObsFold},
	{name: "trailer space before colon", in: "0\r\nA : 1\r\n\r\n", status: 400, msg: msgNameSpace},
	{name: "trailer without colon", in: "0\r\nA\r\n\r\n", status: 400, msg: msgNoColon},
	{name: "trailer control", in: "0\r\nA: \x00\r\n\r\n", status: 400, msg: msgValueChar},
	{name: "trailer bare CR", in: "0\r\nA: 1\r2\r\n\r\n", status: 400, msg: msgBareCR},
	{name: "trailers over count limit", in: "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", status: 431, msg: msgTrailerMany},
	{name: "trailers over byte limit", in: "0\r\nA: " + strings.Repeat("v", 34) + "\r\n\r\n", status: 431, msg: msgTrailerLarge},
}

var chunkedLimits = codec.Limits{MaxBody: 64, MaxHeaderBytes: 40, MaxHeaders: 3}

// parseChunkedSplit runs ParseChunked on in fed in pieces and describes
// the outcome.
func parseChunkedSplit(p *Parser, maxTrailers int, pieces ...[]byte) string {
	req := &handlers.Request{Trailers: make([]handlers.Header, 0, maxTrailers)}
	var c Chunked
	var buf []byte
	for _, piece := range pieces {
		buf = append(buf, piece...)
		before := bytes.Clone(buf)
		n, err := p.ParseChunked(buf, req, &c)
		switch {
		case err == codec.ErrIncomplete:
			if !bytes.Equal(buf, before) {
				return "incomplete body rewritten"
			}
			if c.Need > 0 && c.Need <= len(buf) {
				return fmt.Sprintf("Need %d with %d bytes", c.Need, len(buf))
			}
			continue
		case err != nil:
			var e *Error
			if !errors.As(err, &e) {
				return fmt.Sprintf("error of type %T", err)
			}
			if !bytes.Equal(buf, before) {
				return "refused body rewritten"
			}
			return fmt.Sprintf("%d %s at %d", e.Status, e.Msg, e.Offset)
		default:
			if !bytes.Equal(buf[n:], before[n:]) {
				return "bytes after the body rewritten"
			}
			s := fmt.Sprintf("body=%q n=%d", req.Body, n)
			for _, t := range req.Trailers {
				s += fmt.Sprintf(" trailer[%s=%q]", t.Name, t.Value)
			}
			return s
		}
	}
	return "incomplete"
}

func TestChunked(t *testing.T) {
	p := NewParser(chunkedLimits)
	for _, tt := range chunkedTests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseChunkedSplit(p, 3, []byte(tt.in+"NEXT"))
			want := tt.want
			if tt.status != 0 {
				if i := strings.Index(got, " at "); i >= 0 {
					got = got[:i]
				}
				want = fmt.Sprintf("%d %s", tt.status, tt.msg)
			}
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			// The reference decoder agrees on what is accepted.
			rb, rt, rn, ok := refChunked([]byte(tt.in+"NEXT"), chunkedLimits.MaxBody, 40, 3)
			if ok != (tt.status == 0) {
				t.Fatalf("reference: got ok %v, want %v", ok, tt.status == 0)
			}
			if ok {
				s := fmt.Sprintf("body=%q n=%d", rb, rn)
				for _, t := range rt {
					s += fmt.Sprintf(" trailer[%s=%q]", t.Name, t.Value)
				}
				if s != tt.want {
					t.Errorf("reference: got %q, want %q", s, tt.want)
				}
			}
		})
	}
}

// TestChunkedSplit: byte by byte and at every split the outcome is the
// same, and an incomplete body is never rewritten.
func TestChunkedSplit(t *testing.T) {
	p := NewParser(chunkedLimits)
	for _, tt := range chunkedTests {
		t.Run(tt.name, func(t *testing.T) {
			want := parseChunkedSplit(p, 3, []byte(tt.in))
			for _, pieces := range splits(tt.in) {
				if got := parseChunkedSplit(p, 3, pieces...); got != want {
					t.Fatalf("%d pieces (first %q): got %q, want %q", len(pieces), pieces[0], got, want)
				}
			}
		})
	}
}

// TestChunkedNeed: inside chunk data the parser says how many bytes it
// needs before it can tell more: through the byte after the data.
func TestChunkedNeed(t *testing.T) {
	p := NewParser(codec.Limits{})
	in := []byte("10\r\n0123456789abcdef\r\n0\r\n\r\n")
	var c Chunked
	req := &handlers.Request{}
	if _, err := p.ParseChunked(in[:6], req, &c); err != codec.ErrIncomplete {
		t.Fatalf("got %v, want %v", err, codec.ErrIncomplete)
	}
	if got, want := c.Need, 4+16+1; got != want {
		t.Errorf("got Need %d, want %d", got, want)
	}
	n, err := p.ParseChunked(in, req, &c)
	if err != nil || n != len(in) || string(req.Body) != "0123456789abcdef" {
		t.Errorf("got %d %v %q, want %d nil %q", n, err, req.Body, len(in), "0123456789abcdef")
	}
}

// refChunked is a reference decoder written for clarity, line by line on a
// complete input: it reports whether in starts with a valid chunked body
// within the limits, and if so the body, the trailers and the length.
func refChunked(in []byte, maxBody int64, maxTrailerBytes, maxTrailers int) (body []byte, trailers []handlers.Header, n int, ok bool) {
	body = []byte{}
	pos, ext := 0, 0
	line := func() ([]byte, bool) {
		i := bytes.Index(in[pos:], []byte("\r\n"))
		if i < 0 {
			return nil, false
		}
		l := in[pos : pos+i]
		if bytes.ContainsAny(l, "\r\n") {
			return nil, false
		}
		pos += i + 2
		return l, true
	}
	for {
		l, ok := line()
		if !ok {
			return nil, nil, 0, false
		}
		size, exts := l, []byte(nil)
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			size, exts = l[:i], l[i:]
		}
		if len(size) < 1 || len(size) > 16 {
			return nil, nil, 0, false
		}
		v, err := strconv.ParseUint(string(size), 16, 64)
		if err != nil || !refExtensions(exts) {
			return nil, nil, 0, false
		}
		if ext += len(exts); ext > MaxChunkExtBytes {
			return nil, nil, 0, false
		}
		if v > uint64(maxBody)-uint64(len(body)) {
			return nil, nil, 0, false
		}
		if v == 0 {
			break
		}
		if uint64(len(in)-pos) < v+2 || string(in[pos+int(v):pos+int(v)+2]) != "\r\n" {
			return nil, nil, 0, false
		}
		body = append(body, in[pos:pos+int(v)]...)
		pos += int(v) + 2
	}
	start := pos
	for {
		l, ok := line()
		if !ok || pos-start > maxTrailerBytes {
			return nil, nil, 0, false
		}
		if len(l) == 0 {
			return body, trailers, pos, true
		}
		if len(trailers) == maxTrailers {
			return nil, nil, 0, false
		}
		colon := bytes.IndexByte(l, ':')
		if colon < 1 {
			return nil, nil, 0, false
		}
		for _, c := range l[:colon] {
			if !handlers.IsTokenChar(c) {
				return nil, nil, 0, false
			}
		}
		value := bytes.Trim(l[colon+1:], " \t")
		for _, c := range value {
			if c != '\t' && (c < 0x20 || c == 0x7f) {
				return nil, nil, 0, false
			}
		}
		trailers = append(trailers, handlers.Header{Name: l[:colon], Value: value})
	}
}

// refExtensions reports whether e is *( ";" name [ "=" ( token /
// quoted-string ) ] ) with no whitespace around the separators.
func refExtensions(e []byte) bool {
	token := func() int {
		n := 0
		for n < len(e) && handlers.IsTokenChar(e[n]) {
			n++
		}
		return n
	}
	for len(e) > 0 {
		if e[0] != ';' {
			return false
		}
		e = e[1:]
		n := token()
		if n == 0 {
			return false
		}
		e = e[n:]
		if len(e) == 0 || e[0] != '=' {
			continue
		}
		e = e[1:]
		if len(e) > 0 && e[0] == '"' {
			j := 1
			for {
				if j >= len(e) {
					return false
				}
				c := e[j]
				if c == '"' {
					j++
					break
				}
				if c == '\\' {
					if j+1 >= len(e) || e[j+1] < 0x20 && e[j+1] != '\t' || e[j+1] == 0x7f {
						return false
					}
					j += 2
					continue
				}
				if c < 0x20 && c != '\t' || c == 0x7f {
					return false
				}
				j++
			}
			e = e[j:]
			continue
		}
		if n = token(); n == 0 {
			return false
		}
		e = e[n:]
	}
	return true
}
