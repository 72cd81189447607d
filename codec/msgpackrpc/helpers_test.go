package msgpackrpc

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
	"sync"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/rpc"
)

// frame turns a golden frame written as hex bytes and quoted text into
// bytes: `94 00 01 a4 "echo" 91 a2 "hi"`. Quoted text is taken as is
// (strconv.Unquote), so `"\""` is one byte 0x22.
func frame(s string) []byte {
	var b []byte
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				panic(fmt.Sprintf("frame %q: %v", s, err))
			}
			u, _ := strconv.Unquote(q)
			b = append(b, u...)
			s = s[len(q):]
			continue
		}
		tok, rest, _ := strings.Cut(s, " ")
		h, err := hex.DecodeString(tok)
		if err != nil {
			panic(fmt.Sprintf("frame %q: %v", s, err))
		}
		b = append(b, h...)
		s = rest
	}
	return b
}

// hexOf spells b as spaced hex, for messages.
func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 3*len(b))
	for i, c := range b {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// fakeConn is a codec.Conn whose Post queues fn for the driver to run, as
// the reactor runs it on the loop later. Post may be called from any
// goroutine.
type fakeConn struct {
	loop   int
	value  any
	mu     sync.Mutex
	posted []func(*codec.Flow)
	closed bool
}

func (c *fakeConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090} }
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.posted = append(c.posted, fn)
	return true
}

// next takes the oldest posted function, or nil.
func (c *fakeConn) next() func(*codec.Flow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.posted) == 0 {
		return nil
	}
	fn := c.posted[0]
	c.posted = c.posted[1:]
	return fn
}

// fakePool holds what it is given until the test runs it; it takes at most
// size functions at a time (size < 0: unbounded).
type fakePool struct {
	size  int
	queue []func()
}

func (p *fakePool) Go(_ context.Context, _ int, fn func()) bool {
	if p.size >= 0 && len(p.queue) >= p.size {
		return false
	}
	p.queue = append(p.queue, fn)
	return true
}

// run runs the oldest function given, on the calling goroutine, and
// reports whether there was one.
func (p *fakePool) run() bool {
	if len(p.queue) == 0 {
		return false
	}
	fn := p.queue[0]
	p.queue = p.queue[1:]
	fn()
	return true
}

// msgTrue is msgpack true; a literal would escape through SetResult.
var msgTrue = []byte{0xc3}

// testRegistry has the built-ins (echo, ping) and the methods the tests
// need.
func testRegistry(notes *int) *handlers.Registry {
	reg := handlers.NewRegistry()
	rpc.RegisterBuiltins(reg)
	reg.HandleRPCFunc("add", func(w *handlers.Reply, c *handlers.Call) {
		n, rest, err := mpack.ReadArrayHeader(c.Params)
		if err != nil {
			w.SetError(handlers.CodeBadParams, "add: params")
			return
		}
		var sum int64
		for range n {
			var v int64
			if v, rest, err = mpack.ReadInt(rest); err != nil {
				w.SetError(handlers.CodeBadParams, "add: not an integer")
				return
			}
			sum += v
		}
		w.SetResult(mpack.AppendInt(w.Result(), sum))
	})
	reg.HandleRPCFunc("fail", func(w *handlers.Reply, c *handlers.Call) {
		w.SetError(7, "it failed")
	})
	reg.HandleRPCFunc("failquiet", func(w *handlers.Reply, c *handlers.Call) {
		w.SetError(9, "")
	})
	reg.HandleRPCFunc("panic", func(w *handlers.Reply, c *handlers.Call) {
		w.SetResult(msgTrue)
		panic("method bug")
	})
	reg.HandleRPCFunc("badresult", func(w *handlers.Reply, c *handlers.Call) {
		w.SetResult([]byte{0x92, 0x01}) // an array missing an element
	})
	reg.HandleRPCFunc("note", func(w *handlers.Reply, c *handlers.Call) {
		if notes != nil {
			*notes++
		}
		w.SetResult(msgTrue)
	})
	reg.HandleRPC("slow", handlers.BlockingMethod(handlers.MethodFunc(rpc.Echo)))
	reg.HandleRPC("slowfail", handlers.BlockingMethod(handlers.MethodFunc(func(w *handlers.Reply, c *handlers.Call) {
		w.SetError(8, "slow failure")
	})))
	reg.HandleRPC("slowpanic", handlers.BlockingMethod(handlers.MethodFunc(func(w *handlers.Reply, c *handlers.Call) {
		panic("blocking method bug")
	})))
	reg.Freeze()
	return reg
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testCodec returns a codec of one loop over testRegistry and pool (which
// may be nil: every blocking call is then "busy").
func testCodec(t testing.TB, lim codec.Limits, pool codec.Pool) *Codec {
	t.Helper()
	env := codec.Env{Handlers: testRegistry(nil), Limits: lim, Loops: 1, Logger: quietLogger()}
	if pool != nil {
		env.Pool = pool
	}
	c, err := New(env)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*Codec)
}

// driver plays the reactor for one session: it buffers what is fed, calls
// Serve as the reactor would, discards what Serve consumed, runs posted
// answers, and collects the output.
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
	calls    int

	requests, errors, panics int
}

func newDriver(t testing.TB, c *Codec) *driver {
	conn := &fakeConn{}
	return &driver{t: t, conn: conn, s: c.NewSession(conn), limit: 1 << 20}
}

// flow is the Flow the reactor would hand over now.
func (d *driver) flow() *codec.Flow {
	return &codec.Flow{Out: d.out, Limit: d.limit, Draining: d.draining, Phase: d.phase, Busy: d.busy}
}

// finish applies what a call of the session asked for.
func (d *driver) finish(f *codec.Flow) {
	d.out = f.Out
	d.requests += f.Requests
	d.errors += f.Errors
	d.panics += f.Panics
	d.need, d.phase, d.busy = f.Need, f.Phase, f.Busy
	if f.Close {
		d.close()
	}
}

// close closes the connection as the reactor does: input dropped, posted
// functions dropped unrun, the session's Close called.
func (d *driver) close() {
	if d.closed {
		return
	}
	d.closed = true
	d.in = nil
	d.conn.mu.Lock()
	d.conn.closed, d.conn.posted = true, nil
	d.conn.mu.Unlock()
	d.s.Close()
}

// feed appends b to the inbound buffer and serves what it completes.
func (d *driver) feed(b []byte) {
	if d.closed {
		return
	}
	d.in = append(d.in, b...)
	d.serve()
}

func (d *driver) serve() {
	for !d.closed && len(d.in) > 0 && d.need <= len(d.in) {
		f := d.flow()
		var before []byte
		if len(d.in) <= 256 { // a copy per call would make big inputs quadratic
			before = bytes.Clone(d.in)
		}
		n := d.s.Serve(d.in, f)
		d.calls++
		if n < 0 || n > len(d.in) {
			d.t.Fatalf("Serve consumed %d of %d bytes", n, len(d.in))
		}
		if before != nil && !bytes.Equal(d.in, before) {
			d.t.Fatalf("Serve rewrote its input")
		}
		if f.Need > 0 && f.Need <= len(d.in)-n {
			d.t.Fatalf("Need %d with %d of %d bytes left", f.Need, len(d.in)-n, len(d.in))
		}
		if n < len(d.in) && !f.Close && f.Phase != codec.PhaseHead {
			d.t.Fatalf("%d bytes left in phase %v, want head", len(d.in)-n, f.Phase)
		}
		if n == len(d.in) && f.Phase != codec.PhaseIdle && !f.Close {
			d.t.Fatalf("nothing left in phase %v, want idle", f.Phase)
		}
		d.in = d.in[n:]
		d.finish(f)
		if n == 0 {
			return
		}
	}
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

// flush serves what is buffered even when Need says the frame cannot be
// complete yet. Need is a lower bound for a frame to succeed; a frame
// known to be malformed from fewer bytes (a bomb's header inside a
// container that promised more elements) is refused at this call, where
// the reactor would wait for the bytes or the header timeout.
func (d *driver) flush() {
	d.t.Helper()
	d.need = 0
	d.serve()
}

// deliver runs the posted answers as the reactor does, then serves input
// that waited.
func (d *driver) deliver() {
	d.t.Helper()
	for !d.closed {
		fn := d.conn.next()
		if fn == nil {
			return
		}
		f := d.flow()
		f.Need = 0
		fn(f)
		d.finish(f)
		d.serve()
	}
}

// run feeds the pieces one after the other and returns the output.
func (d *driver) run(pieces ...[]byte) []byte {
	for _, p := range pieces {
		d.feed(p)
	}
	return d.out
}

// splits returns raw fed whole, byte by byte and split in two at every
// offset, each as a list of pieces.
func splits(raw []byte) [][][]byte {
	all := [][][]byte{{raw}}
	var bytewise [][]byte
	for i := range raw {
		bytewise = append(bytewise, raw[i:i+1])
	}
	all = append(all, bytewise)
	for i := 1; i < len(raw); i++ {
		all = append(all, [][]byte{raw[:i], raw[i:]})
	}
	return all
}

// response is a response frame taken apart.
type response struct {
	msgid  uint32
	err    []byte // the error object
	result []byte // the result object
}

// responses takes out apart into response frames, or fails: the output of
// a session must be a sequence of well-formed responses, each with a nil
// error or a str error and then a nil result.
func responses(out []byte) ([]response, error) {
	var rs []response
	for off := 0; off < len(out); {
		n, err := mpack.Walk(out[off:], mpack.Limits{MaxFrame: mpack.MaxFrameLimit, MaxDepth: mpack.MaxDepthLimit})
		if err != nil {
			return rs, fmt.Errorf("frame at %d: %v", off, err)
		}
		fr := out[off : off+n]
		off += n
		if len(fr) < 2 || fr[0] != 0x94 || fr[1] != TypeResponse {
			return rs, fmt.Errorf("frame at %d is not [1, ...]: % x", off-n, fr[:min(len(fr), 8)])
		}
		id, rest, err := mpack.ReadUint(fr[2:])
		if err != nil || id > 1<<32-1 {
			return rs, fmt.Errorf("frame at %d: msgid: %v", off-n, err)
		}
		after, _ := mpack.Skip(rest)
		r := response{msgid: uint32(id), err: rest[:len(rest)-len(after)], result: after}
		if !mpack.IsNil(r.err) {
			if s, _, err := mpack.ReadStr(r.err); err != nil || len(s) == 0 {
				return rs, fmt.Errorf("frame at %d: error %q is not a non-empty str", off-n, r.err)
			}
			if !mpack.IsNil(r.result) || len(r.result) != 1 {
				return rs, fmt.Errorf("frame at %d: an error with result %q", off-n, r.result)
			}
		}
		rs = append(rs, r)
	}
	return rs, nil
}
