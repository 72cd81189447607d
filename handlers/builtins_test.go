package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"testing"
)

func builtinRegistry(stats func() Stats) *Registry {
	r := NewRegistry()
	RegisterBuiltins(r, stats)
	r.Freeze()
	return r
}

func TestBuiltins(t *testing.T) {
	const (
		plain = "Content-Type: text/plain; charset=utf-8\r\n"
		js    = "Content-Type: application/json\r\n"
	)
	stats := func() Stats {
		return Stats{Loops: []LoopStats{
			{Loop: 0, Connections: 3, Accepted: 10, Refused: 1, Requests: 100, Errors: 2, Panics: 1,
				InputHeld: 4096, Overloaded: 1, TimedOut: 2, Resets: 3},
			{Loop: 1, Connections: 4, Accepted: 20, Refused: 0, Requests: 200, Errors: 0, Panics: 0,
				InputHeld: 10},
		}, InputBudget: 1 << 30, OffloadHeld: 5, OffloadDropped: 6,
			Listeners: []ListenerStats{{Addr: "127.0.0.1:8080", Connections: 7, Refused: 1}}}
	}
	draining := func() Stats { return Stats{Draining: true} }
	tests := []struct {
		name   string
		stats  func() Stats
		req    *Request
		status int
		header string
		body   string
	}{
		{name: "plaintext", req: newRequest("GET", "/plaintext"), status: 200, header: plain, body: "Hello, World!"},
		{name: "plaintext HEAD", req: newRequest("HEAD", "/plaintext"), status: 200, header: plain, body: "Hello, World!"},
		{name: "plaintext POST", req: newRequest("POST", "/plaintext"), status: 405,
			header: "Allow: GET, HEAD, OPTIONS\r\n" + plain, body: "Method Not Allowed\n"},
		{name: "json", req: newRequest("GET", "/json"), status: 200, header: js, body: `{"message":"Hello, World!"}`},
		{name: "echo", req: newRequest("GET", "/echo?x=1", "Host", "a", "X", "y"), status: 200, header: js,
			body: `{"method":"GET","target":"/echo?x=1","version":"HTTP/1.1","headers":[["Host","a"],["X","y"]],"body":""}`},
		{name: "echo POST body", req: withBody(newRequest("POST", "/echo", "Host", "h", "Content-Length", "5"), "hello"), status: 200, header: js,
			body: `{"method":"POST","target":"/echo","version":"HTTP/1.1","headers":[["Host","h"],["Content-Length","5"]],"body":"aGVsbG8="}`},
		{name: "echo no headers", req: newRequest("DELETE", "/echo"), status: 200, header: js,
			body: `{"method":"DELETE","target":"/echo","version":"HTTP/1.1","headers":[],"body":""}`},
		{name: "echo OPTIONS", req: newRequest("OPTIONS", "/echo"), status: 200, header: js,
			body: `{"method":"OPTIONS","target":"/echo","version":"HTTP/1.1","headers":[],"body":""}`},
		{name: "echo escapes", req: newRequest("GET", "/echo", "X-Q", "a\"b\\c\td\x01\x7f", "X-Bin", "caf\xe9 é \u2028"), status: 200, header: js,
			body: `{"method":"GET","target":"/echo","version":"HTTP/1.1","headers":[["X-Q","a\"b\\c\td\u0001\u007f"],["X-Bin","caf\u00e9 é \u2028"]],"body":""}`},
		{name: "echo HTTP/1.0", req: proto10(newRequest("GET", "/echo")), status: 200, header: js,
			body: `{"method":"GET","target":"/echo","version":"HTTP/1.0","headers":[],"body":""}`},
		{name: "healthz", req: newRequest("GET", "/healthz"), status: 200, header: plain, body: "ok\n"},
		{name: "healthz with stats", stats: stats, req: newRequest("GET", "/healthz"), status: 200, header: plain, body: "ok\n"},
		{name: "healthz draining", stats: draining, req: newRequest("GET", "/healthz"), status: 503, header: plain, body: "draining\n"},
		{name: "healthz engine cancelled", req: onConn(newRequest("GET", "/healthz"), true), status: 503, header: plain, body: "draining\n"},
		{name: "healthz engine running", req: onConn(newRequest("GET", "/healthz"), false), status: 200, header: plain, body: "ok\n"},
		{name: "stats nil", req: newRequest("GET", "/stats"), status: 200, header: js,
			body: `{"draining":false,"connections":0,"accepted":0,"refused":0,"requests":0,"errors":0,"panics":0,` +
				`"input_held":0,"overloaded":0,"timed_out":0,"resets":0,"input_budget":0,"offload_held":0,"offload_dropped":0,` +
				`"loops":[],"listeners":[]}`},
		{name: "stats", stats: stats, req: newRequest("GET", "/stats"), status: 200, header: js,
			body: `{"draining":false,"connections":7,"accepted":30,"refused":1,"requests":300,"errors":2,"panics":1,` +
				`"input_held":4106,"overloaded":1,"timed_out":2,"resets":3,"input_budget":1073741824,"offload_held":5,"offload_dropped":6,"loops":[` +
				`{"loop":0,"connections":3,"accepted":10,"refused":1,"requests":100,"errors":2,"panics":1,"input_held":4096,"overloaded":1,"timed_out":2,"resets":3},` +
				`{"loop":1,"connections":4,"accepted":20,"refused":0,"requests":200,"errors":0,"panics":0,"input_held":10,"overloaded":0,"timed_out":0,"resets":0}],` +
				`"listeners":[{"addr":"127.0.0.1:8080","connections":7,"refused":1}]}`},
		{name: "stats draining", stats: draining, req: newRequest("GET", "/stats"), status: 200, header: js,
			body: `{"draining":true,"connections":0,"accepted":0,"refused":0,"requests":0,"errors":0,"panics":0,` +
				`"input_held":0,"overloaded":0,"timed_out":0,"resets":0,"input_budget":0,"offload_held":0,"offload_dropped":0,` +
				`"loops":[],"listeners":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(builtinRegistry(tt.stats), tt.req)
			if got := w.Status(); got != tt.status {
				t.Errorf("status: got %d, want %d", got, tt.status)
			}
			if got := string(w.HeaderBytes()); got != tt.header {
				t.Errorf("header: got %q, want %q", got, tt.header)
			}
			if got := string(w.Body()); got != tt.body {
				t.Errorf("body: got %q, want %q", got, tt.body)
			}
			if w.WantsClose() {
				t.Errorf("WantsClose: got true, want false")
			}
			if strings.HasPrefix(tt.header, "Content-Type: application/json") && !json.Valid(w.Body()) {
				t.Errorf("body is not valid JSON: %q", w.Body())
			}
		})
	}
}

// echoAnswer is the /echo document as encoding/json reads it.
type echoAnswer struct {
	Method  string     `json:"method"`
	Target  string     `json:"target"`
	Version string     `json:"version"`
	Headers [][]string `json:"headers"`
	Body    string     `json:"body"`
}

func TestEchoDecodes(t *testing.T) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	tests := []struct {
		name    string
		method  string
		target  string
		headers []string
		body    []byte
	}{
		{name: "plain", method: "GET", target: "/echo?x=1", headers: []string{"Host", "a", "X", "y"}},
		{name: "name case kept", method: "PUT", target: "/echo", headers: []string{"hOsT", "a", "X-MiXeD-CaSe", "V", "x-mixed-case", "v2"}},
		{name: "repeated headers in order", method: "GET", target: "/echo", headers: []string{"A", "1", "B", "2", "A", "3"}},
		{name: "quotes and backslashes", method: "GET", target: `/echo?q="a\b"`, headers: []string{"X", `"quoted" \back\ </script>`}},
		{name: "controls", method: "GET", target: "/echo", headers: []string{"X", "tab\there\x00nul\x1fus\x7fdel\b\f\n\r"}},
		{name: "obs-text", method: "GET", target: "/echo", headers: []string{"X", "\x80\xff\xe9\xc3"}},
		{name: "valid UTF-8", method: "GET", target: "/echo/%E2%9C%93", headers: []string{"X", "héllo ✓ 😀 \u2028\u2029 \ufffd"}},
		{name: "mixed", method: "GET", target: "/echo", headers: []string{"X", "ok\xe2\x9c bad \xf0\x9f\x98\x80 good \xed\xa0\x80 surrogate"}},
		{name: "binary body", method: "POST", target: "/echo", headers: []string{"Host", "h"}, body: allBytes},
		{name: "body padding 1", method: "POST", target: "/echo", body: []byte("ab")},
		{name: "body padding 2", method: "POST", target: "/echo", body: []byte("a")},
		{name: "large body", method: "POST", target: "/echo", body: bytes.Repeat([]byte("xyz\x00"), 10000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := withBody(newRequest(tt.method, tt.target, tt.headers...), string(tt.body))
			w := new(Response)
			Echo(w, req)
			var got echoAnswer
			if err := json.Unmarshal(w.Body(), &got); err != nil {
				t.Fatalf("json: %v in %q", err, w.Body())
			}
			if want := bytesAsRunes([]byte(tt.method)); got.Method != want {
				t.Errorf("method: got %q, want %q", got.Method, want)
			}
			if want := bytesAsRunes([]byte(tt.target)); got.Target != want {
				t.Errorf("target: got %q, want %q", got.Target, want)
			}
			if got.Version != "HTTP/1.1" {
				t.Errorf("version: got %q, want %q", got.Version, "HTTP/1.1")
			}
			if len(got.Headers) != len(tt.headers)/2 {
				t.Fatalf("headers: got %d, want %d", len(got.Headers), len(tt.headers)/2)
			}
			for i, h := range got.Headers {
				want := []string{bytesAsRunes([]byte(tt.headers[2*i])), bytesAsRunes([]byte(tt.headers[2*i+1]))}
				if len(h) != 2 || h[0] != want[0] || h[1] != want[1] {
					t.Errorf("header %d: got %q, want %q", i, h, want)
				}
			}
			body, err := base64.StdEncoding.DecodeString(got.Body)
			if err != nil {
				t.Fatalf("body: %v", err)
			}
			if !bytes.Equal(body, tt.body) {
				t.Errorf("body: got %q, want %q", body, tt.body)
			}
			if !bytes.HasPrefix(w.Body(), []byte(`{"method":`)) {
				t.Errorf("got %q, want method first", w.Body())
			}
		})
	}
}

// TestEchoKeepsBody checks that Echo appends to what the body holds, as
// every handler writing into a Response does.
func TestEchoKeepsBody(t *testing.T) {
	w := new(Response)
	w.WriteString("x")
	Echo(w, newRequest("GET", "/e"))
	want := `x{"method":"GET","target":"/e","version":"HTTP/1.1","headers":[],"body":""}`
	if got := string(w.Body()); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStatsTotal(t *testing.T) {
	s := Stats{Loops: []LoopStats{{Loop: 0, Connections: -1, Requests: 5}, {Loop: 1, Connections: 3, Requests: 6, Panics: 2}}}
	want := LoopStats{Loop: -1, Connections: 2, Requests: 11, Panics: 2}
	if got := s.Total(); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func withBody(r *Request, body string) *Request {
	if body != "" {
		r.Body = []byte(body)
	}
	return r
}

func proto10(r *Request) *Request {
	r.Proto, r.ProtoMinor = []byte("HTTP/1.0"), 0
	return r
}

func onConn(r *Request, cancelled bool) *Request {
	ctx := context.Background()
	if cancelled {
		c, cancel := context.WithCancel(ctx)
		cancel()
		ctx = c
	}
	r.Conn = &fakeConn{ctx: ctx}
	return r
}

// fakeConn is a Conn with an engine context.
type fakeConn struct {
	ctx context.Context
	v   any
}

func (c *fakeConn) LocalAddr() net.Addr            { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr           { return &net.TCPAddr{} }
func (c *fakeConn) Loop() int                      { return 0 }
func (c *fakeConn) Value() any                     { return c.v }
func (c *fakeConn) SetValue(v any)                 { c.v = v }
func (c *fakeConn) EngineContext() context.Context { return c.ctx }
func (c *fakeConn) Context() context.Context       { return c.ctx }

var _ Conn = (*fakeConn)(nil)

// TestSetBodyDoesNotKeepForeignMemory: a body set from a view of the
// request must not become the buffer the next response is written into.
func TestSetBodyDoesNotKeepForeignMemory(t *testing.T) {
	var w Response
	in := []byte("request bytes that belong to the connection")
	w.SetBody(in[:7])
	w.Reset()
	w.WriteString("next response")
	if got := string(in); got != "request bytes that belong to the connection" {
		t.Fatalf("the next response wrote into the request: %q", got)
	}
	// The append pattern keeps the Response's own buffer: no copy.
	w.Reset()
	w.SetBody(append(w.Body(), "abc"...))
	before := &w.Body()[:1][0]
	w.Reset()
	w.SetBody(append(w.Body(), "xyz"...))
	if &w.Body()[:1][0] != before || string(w.Body()) != "xyz" {
		t.Fatalf("the append pattern lost the buffer: %q", w.Body())
	}
	// Grow makes room once: a fresh Response's body is then built in
	// place and adopted, not copied.
	var g Response
	g.WriteString("head ")
	g.Grow(1 << 20)
	grown := &g.Body()[:1][0]
	g.SetBody(append(g.Body(), bytes.Repeat([]byte{'x'}, 1<<20)...))
	if &g.Body()[:1][0] != grown || len(g.Body()) != 5+1<<20 || string(g.Body()[:5]) != "head " {
		t.Fatalf("a grown body was moved or changed: %d bytes", len(g.Body()))
	}
}
