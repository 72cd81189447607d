package cocaine

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/rpc"
)

// fakeConn is a codec.Conn whose Post queues fn for the driver to run.
type fakeConn struct {
	loop  int
	local net.Addr
	value any
	posts []func(f *codec.Flow)
}

func (c *fakeConn) LocalAddr() net.Addr {
	if c.local != nil {
		return c.local
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 10054}
}
func (c *fakeConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *fakeConn) Loop() int                                { return c.loop }
func (c *fakeConn) Value() any                               { return c.value }
func (c *fakeConn) SetValue(v any)                           { c.value = v }
func (c *fakeConn) EngineContext() context.Context           { return context.Background() }
func (c *fakeConn) Context() context.Context                 { return context.Background() }
func (c *fakeConn) PostWritable(fn func(f *codec.Flow)) bool { return c.Post(fn) }
func (c *fakeConn) Post(fn func(f *codec.Flow)) bool {
	c.posts = append(c.posts, fn)
	return true
}

// fakePool queues what it is given, up to cap; the test runs it.
type fakePool struct {
	cap  int
	work []func()
}

func (p *fakePool) Go(_ context.Context, _ int, fn func()) bool {
	if len(p.work) >= p.cap {
		return false
	}
	p.work = append(p.work, fn)
	return true
}

func (p *fakePool) run() {
	w := p.work
	p.work = nil
	for _, fn := range w {
		fn()
	}
}

// testLog discards.
var testLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// testRegistry has the built-ins and the handlers the tests need.
func testRegistry() *handlers.Registry {
	reg := handlers.NewRegistry()
	rpc.RegisterBuiltins(reg)
	reg.HandleRPCFunc("first", rpc.Echo) // the unary echo, under a name no stream takes
	reg.HandleRPCFunc("fails", func(w *handlers.Reply, c *handlers.Call) { w.SetError(77, "it failed") })
	reg.HandleRPCFunc("boom", func(w *handlers.Reply, c *handlers.Call) { panic("boom") })
	reg.HandleRPCFunc("noresult", func(w *handlers.Reply, c *handlers.Call) {})
	reg.HandleRPC("slow", handlers.BlockingMethod(handlers.MethodFunc(rpc.Echo)))
	reg.HandleStream("early", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		tx.Write([]byte("hello"))
		return nil
	}))
	reg.HandleStream("count", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		return &counter{}
	}))
	reg.HandleStream("refuse", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		tx.Error(7, 9, "no, "+string(event))
		return &counter{}
	}))
	reg.HandleStream("openpanic", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		panic("open")
	}))
	reg.HandleStream("chunkpanic", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		return panicky{}
	}))
	reg.HandleStream("keep", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		retained = tx
		return &counter{}
	}))
	reg.HandleStream("keeper", handlers.StreamFunc(func(tx handlers.Sender, event []byte) handlers.Receiver {
		keptWriter = tx.Keep() // from here the Sender's messages go through it
		return keeper{}
	}))
	reg.Freeze()
	return reg
}

// keptWriter is the last direction a "keeper" handler kept.
var keptWriter handlers.StreamWriter

// keeper echoes through a kept direction and closes it on the peer's
// close; after the peer's error it leaves it open (the connection's close
// ends it).
type keeper struct{}

func (keeper) Chunk(tx handlers.Sender, data []byte)                    { tx.Write(data) }
func (keeper) Error(tx handlers.Sender, category, code int, msg []byte) {}
func (keeper) Close(tx handlers.Sender)                                 { tx.Write([]byte("bye")); tx.Close() }

// retained is the Sender a "keep" handler wrongly retained.
var retained handlers.Sender

// counter counts the chunks and reports on the peer's end: the count on
// close, the error it got on error.
type counter struct{ n int }

func (c *counter) Chunk(tx handlers.Sender, data []byte) { c.n++ }
func (c *counter) Error(tx handlers.Sender, category, code int, msg []byte) {
	tx.Write(fmt.Appendf(nil, "after %d: error %d %d %s", c.n, category, code, msg))
	lastError = fmt.Sprintf("%d %d %s closed=%v", category, code, msg, tx.Closed())
}
func (c *counter) Close(tx handlers.Sender) { tx.Write(fmt.Appendf(nil, "count %d", c.n)) }

// lastError is what the last counter's Error got.
var lastError string

type panicky struct{}

func (panicky) Chunk(tx handlers.Sender, data []byte) {
	tx.Write([]byte("before"))
	panic("chunk")
}
func (panicky) Error(handlers.Sender, int, int, []byte) {}
func (panicky) Close(handlers.Sender)                   {}

func newCodec(t testing.TB, reg *handlers.Registry, o Options, pool codec.Pool, lim codec.Limits) *Codec {
	t.Helper()
	if reg == nil {
		reg = testRegistry()
	}
	c, err := NewWithOptions(codec.Env{Handlers: reg, Limits: lim, Loops: 1, Logger: testLog, Pool: pool}, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// driver plays the reactor for one session: it buffers what is fed, calls
// Serve as the reactor would, discards what Serve consumed, runs posts and
// collects the output.
type driver struct {
	t        testing.TB
	conn     *fakeConn
	s        codec.Session
	in       []byte
	out      []byte
	limit    int
	draining bool
	closed   bool
	need     int
	phase    codec.Phase
	busy     bool
	held     int // codec.Flow.Held, as the session last left it
	control  int // codec.Flow.Control of the last call

	requests, errors, panics int
}

func newDriver(t testing.TB, c codec.Codec) *driver {
	conn := &fakeConn{}
	return &driver{t: t, conn: conn, s: c.NewSession(conn), limit: 1 << 20}
}

// feed appends b to the inbound buffer and serves what it completes.
func (d *driver) feed(b []byte) {
	d.t.Helper()
	d.in = append(d.in, b...)
	d.serve()
}

// flush serves what is buffered even when Need says more is needed:
// Need is a hint, and the session must cope with being called early.
func (d *driver) flush() {
	d.t.Helper()
	d.need = 0
	d.serve()
}

func (d *driver) serve() {
	d.t.Helper()
	for !d.closed && len(d.in) > 0 && len(d.in) >= d.need {
		f := d.flow()
		keep := bytes.Clone(d.in)
		n := d.s.Serve(d.in, f)
		if n < 0 || n > len(d.in) {
			d.t.Fatalf("Serve consumed %d of %d bytes", n, len(d.in))
		}
		if !bytes.Equal(d.in[n:], keep[n:]) {
			d.t.Fatalf("Serve rewrote bytes it did not consume")
		}
		if f.Need > 0 && f.Need <= len(d.in)-n {
			d.t.Fatalf("Need %d with %d bytes left", f.Need, len(d.in)-n)
		}
		d.finish(f)
		d.in = d.in[n:]
		if n == 0 || f.Close {
			break
		}
	}
}

func (d *driver) flow() *codec.Flow {
	return &codec.Flow{Out: d.out, Limit: d.limit, Draining: d.draining, Busy: d.busy, Phase: d.phase, Held: d.held}
}

// refuse refuses the connection as the reactor does: the session answers,
// the input is dropped, and a timeout closes whatever the session says.
func (d *driver) refuse(r codec.Refusal) {
	d.t.Helper()
	f := d.flow()
	d.s.Refuse(r, d.phase, d.in, f)
	d.in = nil
	if r == codec.RefuseTimeout {
		f.Close = true
	}
	d.finish(f)
}

func (d *driver) finish(f *codec.Flow) {
	d.out = f.Out
	d.requests += f.Requests
	d.errors += f.Errors
	d.panics += f.Panics
	d.need, d.phase, d.busy, d.held, d.control = f.Need, f.Phase, f.Busy, f.Held, f.Control
	if f.Close {
		d.closed = true
	}
}

// runPosts runs what the session posted, as the reactor would.
func (d *driver) runPosts() {
	for len(d.conn.posts) > 0 && !d.closed {
		fn := d.conn.posts[0]
		d.conn.posts = d.conn.posts[1:]
		f := d.flow()
		fn(f)
		d.finish(f)
	}
}

// take returns the output so far, rendered, and forgets it.
func (d *driver) take(v Version) string {
	d.t.Helper()
	s := render(d.t, v, d.out)
	d.out = d.out[:0]
	return s
}

// unhex decodes hex written with spaces.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// render writes every frame of out as text, one per line, each checked
// by a Walker first.
func render(t testing.TB, v Version, out []byte) string {
	t.Helper()
	var b strings.Builder
	for len(out) > 0 {
		n, err := mpack.Walk(out, mpack.Limits{MaxFrame: 1 << 30})
		if err != nil {
			t.Fatalf("output is not msgpack: %v: % x", err, out)
		}
		rest, err := renderValue(&b, out[:n])
		if err != nil || len(rest) != 0 {
			t.Fatalf("render: %v", err)
		}
		b.WriteByte('\n')
		out = out[n:]
	}
	return b.String()
}

// renderValue writes the msgpack object at the start of p: str as a Go
// quoted string, bin as b"...", arrays as [a b], maps as {k:v}.
func renderValue(b *strings.Builder, p []byte) ([]byte, error) {
	switch mpack.NextType(p) {
	case mpack.NilType:
		b.WriteString("nil")
		return p[1:], nil
	case mpack.BoolType:
		v, rest, err := mpack.ReadBool(p)
		b.WriteString(strconv.FormatBool(v))
		return rest, err
	case mpack.UintType:
		v, rest, err := mpack.ReadUint(p)
		b.WriteString(strconv.FormatUint(v, 10))
		return rest, err
	case mpack.IntType:
		v, rest, err := mpack.ReadInt(p)
		b.WriteString(strconv.FormatInt(v, 10))
		return rest, err
	case mpack.StrType:
		v, rest, err := mpack.ReadStr(p)
		b.WriteString(strconv.Quote(string(v)))
		return rest, err
	case mpack.BinType:
		v, rest, err := mpack.ReadBin(p)
		b.WriteString("b" + strconv.Quote(string(v)))
		return rest, err
	case mpack.ArrayType:
		n, rest, err := mpack.ReadArrayHeader(p)
		if err != nil {
			return p, err
		}
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			if rest, err = renderValue(b, rest); err != nil {
				return p, err
			}
		}
		b.WriteByte(']')
		return rest, nil
	case mpack.MapType:
		n, rest, err := mpack.ReadMapHeader(p)
		if err != nil {
			return p, err
		}
		b.WriteByte('{')
		for i := range 2 * n {
			switch {
			case i%2 == 1:
				b.WriteByte(':')
			case i > 0:
				b.WriteByte(' ')
			}
			if rest, err = renderValue(b, rest); err != nil {
				return p, err
			}
		}
		b.WriteByte('}')
		return rest, nil
	}
	return p, fmt.Errorf("cannot render % x", p[:min(len(p), 8)])
}

// Client-side frames, v0.12, with the empty headers real clients send.
func invoke(ch uint64, event string) []byte { return V12.AppendInvoke(nil, ch, event) }
func chunk(ch uint64, data string) []byte   { return V12.AppendChunk(nil, ch, []byte(data)) }
func choke(ch uint64) []byte                { return V12.AppendChoke(nil, ch) }
func peerError(ch uint64, category, code int, msg string) []byte {
	return V12.AppendError(nil, ch, category, code, msg)
}

// join concatenates frames.
func join(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// lines joins expected transcript lines.
func lines(ls ...string) string {
	if len(ls) == 0 {
		return ""
	}
	return strings.Join(ls, "\n") + "\n"
}
