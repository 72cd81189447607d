package http1

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// fuzzLimits are small, so that fuzzing reaches every bound.
var fuzzLimits = codec.Limits{MaxRequestLine: 128, MaxHeaderBytes: 256, MaxHeaders: 8, MaxBody: 512}

// FuzzRequestHead: ParseHead never panics, gives the same outcome however
// the input is split, and when it accepts a head its views are views of
// the head and obey the grammar.
func FuzzRequestHead(f *testing.F) {
	for _, tt := range headTests {
		f.Add([]byte(tt.in), uint16(len(tt.in)/2))
	}
	for _, tc := range confCorpus {
		if len(tc.in) <= 1024 {
			f.Add([]byte(tc.in), uint16(len(tc.in)/2))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		p := NewParser(fuzzLimits)
		want := parseSplit(p, in)
		k := int(split) % (len(in) + 1)
		if got := parseSplit(p, in[:k], in[k:]); got != want {
			t.Fatalf("split at %d: got %q, want %q", k, got, want)
		}
		if len(in) <= 256 {
			var pieces [][]byte
			for i := range in {
				pieces = append(pieces, in[i:i+1])
			}
			if got := parseSplit(p, pieces...); got != want {
				t.Fatalf("byte by byte: got %q, want %q", got, want)
			}
		}

		req := newRequest(fuzzLimits.MaxHeaders)
		var h Head
		n, err := p.ParseHead(in, req, &h)
		if err != nil {
			var e *Error
			if err != codec.ErrIncomplete && !errors.As(err, &e) {
				t.Fatalf("got error %T %v", err, err)
			}
			return
		}
		head := in[:n]
		for _, v := range [][]byte{req.Method, req.Target, req.Path, req.Query, req.Proto, req.Host} {
			if !within(head, v) {
				t.Fatalf("got view %q outside the head", v)
			}
		}
		if len(req.Method) == 0 || len(req.Method) > maxMethod || !isToken(req.Method) {
			t.Fatalf("got method %q", req.Method)
		}
		if len(req.Path) == 0 || len(req.Target) == 0 || req.ProtoMajor != 1 || !bytes.HasPrefix(req.Proto, []byte("HTTP/1.")) {
			t.Fatalf("got path %q target %q proto %q", req.Path, req.Target, req.Proto)
		}
		for _, f := range req.Headers {
			if !within(head, f.Name) || !within(head, f.Value) || !isToken(f.Name) {
				t.Fatalf("got field %q: %q", f.Name, f.Value)
			}
			for _, c := range f.Value {
				if c < 0x20 && c != '\t' || c == 0x7f {
					t.Fatalf("got control %#x in value %q", c, f.Value)
				}
			}
			if len(f.Value) > 0 && (f.Value[0] == ' ' || f.Value[0] == '\t' || f.Value[len(f.Value)-1] == ' ' || f.Value[len(f.Value)-1] == '\t') {
				t.Fatalf("got untrimmed value %q", f.Value)
			}
		}
		if len(req.Headers) > fuzzLimits.MaxHeaders {
			t.Fatalf("got %d fields", len(req.Headers))
		}
		if bytes.Index(head, []byte("\r\n\r\n")) != n-4 {
			t.Fatalf("got head %q not ending at its first empty line", head)
		}
		if h.Chunked && h.ContentLength >= 0 || h.ContentLength > fuzzLimits.MaxBody {
			t.Fatalf("got chunked %v with length %d", h.Chunked, h.ContentLength)
		}
		if req.ProtoMinor >= 1 && req.Header("host") == nil {
			t.Fatalf("got HTTP/1.1 without Host")
		}
		if bytes.IndexByte(req.Host, ',') >= 0 {
			t.Fatalf("got host %q with a comma", req.Host)
		}
		for _, f := range req.Headers {
			if bytes.IndexByte(f.Name, '_') >= 0 && (equalFoldDash(f.Name, "content-length") || equalFoldDash(f.Name, "transfer-encoding")) {
				t.Fatalf("got framing field spelled %q", f.Name)
			}
		}
		// The head alone parses the same.
		if got := parseSplit(p, head); got != want {
			t.Fatalf("head alone: got %q, want %q", got, want)
		}
	})
}

// FuzzChunked: ParseChunked never panics, gives the same outcome however
// the input is split, never rewrites an incomplete body, and accepts
// exactly what the reference decoder accepts, with the same result.
func FuzzChunked(f *testing.F) {
	for _, tt := range chunkedTests {
		f.Add([]byte(tt.in), uint16(len(tt.in)/2))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		p := NewParser(chunkedLimits)
		want := parseChunkedSplit(p, 3, in)
		k := int(split) % (len(in) + 1)
		if got := parseChunkedSplit(p, 3, in[:k], in[k:]); got != want {
			t.Fatalf("split at %d: got %q, want %q", k, got, want)
		}
		if len(in) <= 256 {
			var pieces [][]byte
			for i := range in {
				pieces = append(pieces, in[i:i+1])
			}
			if got := parseChunkedSplit(p, 3, pieces...); got != want {
				t.Fatalf("byte by byte: got %q, want %q", got, want)
			}
		}
		body, trailers, n, ok := refChunked(in, chunkedLimits.MaxBody, chunkedLimits.MaxHeaderBytes, 3)
		accepted := strings.HasPrefix(want, "body=")
		if ok != accepted {
			t.Fatalf("got %q, reference ok=%v", want, ok)
		}
		if ok {
			ref := fmt.Sprintf("body=%q n=%d", body, n)
			for _, t := range trailers {
				ref += fmt.Sprintf(" trailer[%s=%q]", t.Name, t.Value)
			}
			if want != ref {
				t.Fatalf("got %q, reference %q", want, ref)
			}
		}
	})
}

// FuzzSession: a session never panics, never consumes more than it is
// given, and answers the same however the input is split.
func FuzzSession(f *testing.F) {
	for _, in := range splitCases() {
		f.Add([]byte(in), uint16(len(in)/2))
	}
	for _, tc := range confCorpus {
		if len(tc.in) <= 1024 {
			f.Add([]byte(tc.in), uint16(len(tc.in)/2))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		c := testCodec(t, fuzzLimits)
		want := newDriver(t, c).run(in)
		k := int(split) % (len(in) + 1)
		got := strings.ReplaceAll(newDriver(t, c).run(in[:k], in[k:]), continueLine, "")
		if got != strings.ReplaceAll(want, continueLine, "") {
			t.Fatalf("split at %d: got %q, want %q", k, got, want)
		}
	})
}

func isToken(b []byte) bool {
	for _, c := range b {
		if !handlers.IsTokenChar(c) {
			return false
		}
	}
	return len(b) > 0
}
