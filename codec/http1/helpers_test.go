package http1

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// fakeConn is a codec.Conn on loop 0 whose Post runs fn at once.
type fakeConn struct {
	loop  int
	value any
}

func (c *fakeConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080} }
func (c *fakeConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *fakeConn) Loop() int      { return c.loop }
func (c *fakeConn) Value() any     { return c.value }
func (c *fakeConn) SetValue(v any) { c.value = v }
func (c *fakeConn) EngineContext() context.Context {
	return context.Background()
}
func (c *fakeConn) Context() context.Context                 { return context.Background() }
func (c *fakeConn) PostWritable(fn func(f *codec.Flow)) bool { return c.Post(fn) }
func (c *fakeConn) Post(fn func(f *codec.Flow)) bool {
	var f codec.Flow
	fn(&f)
	return true
}

// testRegistry routes the handlers the session tests use.
func testRegistry() *handlers.Registry {
	reg := handlers.NewRegistry()
	reg.HandleFunc("GET", "/plaintext", handlers.Plaintext)
	reg.HandleFunc("", "/show", show)
	reg.HandleFunc("", "/echo", handlers.Echo)
	reg.HandleFunc("", "/ignore", func(w *handlers.Response, r *handlers.Request) {
		w.WriteString("ignored")
	})
	reg.HandleFunc("GET", "/panic", func(w *handlers.Response, r *handlers.Request) {
		w.Header("X-Partial", "yes")
		w.WriteString("partial")
		panic("boom")
	})
	reg.HandleFunc("", "/status/{code}", func(w *handlers.Response, r *handlers.Request) {
		code, _ := strconv.Atoi(string(r.Param("code")))
		w.SetStatus(code)
		w.Header("X-Status", "set")
		w.WriteString("body")
	})
	reg.HandleFunc("GET", "/close", func(w *handlers.Response, r *handlers.Request) {
		w.SetClose()
		w.WriteString("bye")
	})
	reg.HandleFunc("GET", "/big", func(w *handlers.Response, r *handlers.Request) {
		w.Write(make([]byte, 1000))
	})
	reg.Freeze()
	return reg
}

// show answers a one-line description of the request: what the parser
// made of it.
func show(w *handlers.Response, r *handlers.Request) {
	w.SetContentType("text/plain")
	w.SetBody(appendShow(w.Body(), r))
}

func appendShow(b []byte, r *handlers.Request) []byte {
	b = fmt.Appendf(b, "%s %s path=%s query=%q proto=%s %d.%d host=%q close=%v",
		r.Method, r.Target, r.Path, r.Query, r.Proto, r.ProtoMajor, r.ProtoMinor, r.Host, r.Close)
	for _, h := range r.Headers {
		b = fmt.Appendf(b, " [%s=%q]", h.Name, h.Value)
	}
	b = fmt.Appendf(b, " body=%q", r.Body)
	for _, h := range r.Trailers {
		b = fmt.Appendf(b, " trailer[%s=%q]", h.Name, h.Value)
	}
	return b
}

func testCodec(t testing.TB, lim codec.Limits) *Codec {
	t.Helper()
	c, err := New(codec.Env{
		Handlers: testRegistry(),
		Limits:   lim,
		Loops:    1,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.(*Codec)
}

// driver plays the reactor for one session: it buffers what is fed,
// calls Serve as the reactor would, discards what Serve consumed and
// collects the output.
type driver struct {
	t        testing.TB
	s        codec.Session
	in       []byte
	out      []byte
	limit    int
	draining bool
	closed   bool
	need     int
	phase    codec.Phase
	calls    int

	requests, errors, panics int
}

func newDriver(t testing.TB, c *Codec) *driver {
	return &driver{t: t, s: c.NewSession(&fakeConn{}), limit: 1 << 20}
}

// feed appends b to the inbound buffer and serves what it completes.
func (d *driver) feed(b []byte) {
	d.t.Helper()
	d.in = append(d.in, b...)
	if d.closed || d.need > len(d.in) {
		return
	}
	for {
		f := codec.Flow{Out: d.out, Limit: d.limit, Draining: d.draining}
		after := bytes.Clone(d.in)
		n := d.s.Serve(d.in, &f)
		d.calls++
		if n < 0 || n > len(d.in) {
			d.t.Fatalf("Serve consumed %d of %d bytes", n, len(d.in))
		}
		if !bytes.Equal(d.in[n:], after[n:]) {
			d.t.Fatalf("Serve rewrote bytes it did not consume")
		}
		if f.Need > 0 && f.Need <= len(d.in)-n {
			d.t.Fatalf("Need %d with %d of %d bytes left", f.Need, len(d.in)-n, len(d.in))
		}
		d.out = f.Out
		d.requests += f.Requests
		d.errors += f.Errors
		d.panics += f.Panics
		d.in = d.in[n:]
		d.need, d.phase = f.Need, f.Phase
		if f.Close {
			d.closed = true
			return
		}
		if n == 0 || len(d.in) == 0 {
			return
		}
	}
}

// run feeds the pieces one after the other and returns the output with
// the Date values replaced by "X".
func (d *driver) run(pieces ...[]byte) string {
	d.t.Helper()
	for _, p := range pieces {
		d.feed(p)
	}
	return normalize(d.out)
}

var dateRE = regexp.MustCompile(`Date: [^\r]*\r\n`)

func normalize(b []byte) string {
	return dateRE.ReplaceAllString(string(b), "Date: X\r\n")
}

// serve runs raw through a fresh session of c in one piece.
func serve(t testing.TB, c *Codec, raw string) (string, *driver) {
	t.Helper()
	d := newDriver(t, c)
	return d.run([]byte(raw)), d
}

// splits returns raw fed whole, byte by byte and split in two at every
// offset, each as a list of pieces.
func splits(raw string) [][][]byte {
	b := []byte(raw)
	all := [][][]byte{{b}}
	var bytewise [][]byte
	for i := range b {
		bytewise = append(bytewise, b[i:i+1])
	}
	all = append(all, bytewise)
	for i := 1; i < len(b); i++ {
		all = append(all, [][]byte{b[:i], b[i:]})
	}
	return all
}

// statusOf returns the status codes of the responses in out, in order.
func statusOf(out string) []int {
	var codes []int
	for _, line := range strings.Split(out, "\r\n") {
		if strings.HasPrefix(line, "HTTP/1.1 ") && len(line) >= 12 {
			if c, err := strconv.Atoi(line[9:12]); err == nil {
				codes = append(codes, c)
			}
		}
	}
	return codes
}

// summary describes what ParseHead made of a head.
func summary(req *handlers.Request, h *Head) string {
	var b []byte
	b = appendShow(b, req)
	b = fmt.Appendf(b, " | len=%d cl=%d chunked=%v continue=%v keepalive=%v",
		h.Len, h.ContentLength, h.Chunked, h.Continue, h.KeepAlive)
	return string(b)
}

func newRequest(max int) *handlers.Request {
	return &handlers.Request{Headers: make([]handlers.Header, 0, max)}
}
