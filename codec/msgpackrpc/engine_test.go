package msgpackrpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netrpc "net/rpc"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ucodec "github.com/ugorji/go/codec"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/codec/msgpackrpc"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
	"github.com/tokamak-io/tokamak/rpc"
)

// start runs an engine with the RPC built-ins on 127.0.0.1:0, serving
// MessagePack-RPC, and stops it when the test ends.
func start(t testing.TB, cfg engine.Config, setup func(reg *handlers.Registry)) (*engine.Engine, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	e := engine.New(cfg)
	rpc.RegisterBuiltins(e.Handlers())
	if setup != nil {
		setup(e.Handlers())
	}
	addr, err := e.Listen("msgpackrpc://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	enginetest.Run(t, e)
	return e, addr.String()
}

// testLogger logs at debug level with -v; else it discards.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// reader reads response frames from a raw connection.
type reader struct {
	t   testing.TB
	c   net.Conn
	buf []byte
}

// next returns the next frame, failing the test on EOF or after 5 s.
func (r *reader) next() []byte {
	r.t.Helper()
	fr, err := r.read()
	if err != nil {
		r.t.Fatalf("reading a response: %v (after %q)", err, r.buf)
	}
	return fr
}

func (r *reader) read() ([]byte, error) {
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var tmp [64 << 10]byte
	for {
		n, err := mpack.Walk(r.buf, mpack.Limits{MaxFrame: 4 << 20})
		if err == nil {
			fr := bytes.Clone(r.buf[:n])
			r.buf = r.buf[n:]
			return fr, nil
		}
		if err != codec.ErrIncomplete {
			return nil, err
		}
		m, err := r.c.Read(tmp[:])
		r.buf = append(r.buf, tmp[:m]...)
		if err != nil && m == 0 {
			return nil, err
		}
	}
}

// eof reads until the server closes, and fails on any byte.
func (r *reader) eof() {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(r.c)
	if len(r.buf) > 0 || len(rest) > 0 {
		r.t.Fatalf("got %q after the last response, want nothing", append(r.buf, rest...))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatalf("the connection stayed open")
	}
}

var (
	ping1 = msgpackrpc.AppendRequest(nil, 1, "ping", nil)
	pong1 = msgpackrpc.AppendResult(nil, 1, mpack.AppendStr(nil, "pong"))
	ping2 = msgpackrpc.AppendRequest(nil, 2, "ping", nil)
	pong2 = msgpackrpc.AppendResult(nil, 2, mpack.AppendStr(nil, "pong"))
)

// ping sends a ping on c and checks the answer.
func ping(t testing.TB, c net.Conn, r *reader) {
	t.Helper()
	if _, err := c.Write(ping1); err != nil {
		t.Fatal(err)
	}
	if got := r.next(); !bytes.Equal(got, pong1) {
		t.Fatalf("got %q, want %q", got, pong1)
	}
}

// interopMethods are the methods the net/rpc client calls besides the
// built-ins.
func interopMethods(notes *atomic.Int64) func(reg *handlers.Registry) {
	return func(reg *handlers.Registry) {
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
		reg.HandleRPCFunc("note", func(w *handlers.Reply, c *handlers.Call) { notes.Add(1) })
		reg.HandleRPCFunc("notes", func(w *handlers.Reply, c *handlers.Call) {
			w.SetResult(mpack.AppendInt(w.Result(), notes.Load()))
		})
		reg.HandleRPC("slowecho", handlers.BlockingMethod(handlers.MethodFunc(func(w *handlers.Reply, c *handlers.Call) {
			time.Sleep(time.Millisecond)
			rpc.Echo(w, c)
		})))
	}
}

// TestNetRPCInterop: Go's net/rpc client with ugorji's MsgpackSpecRpc codec
// calls tokamak. The codec wraps a single argument in a params array of
// one (MsgpackSpecRpcMultiArgs sends several as is), reads the error as a
// string, and the result into the reply.
func TestNetRPCInterop(t *testing.T) {
	for _, writeExt := range []bool{true, false} {
		t.Run(fmt.Sprintf("WriteExt=%v", writeExt), func(t *testing.T) {
			var notes atomic.Int64
			_, addr := start(t, engine.Config{Loops: 2}, interopMethods(&notes))
			h := &ucodec.MsgpackHandle{WriteExt: writeExt}
			h.RawToString = true
			h.SignedInteger = true
			h.MapType = reflect.TypeOf(map[string]any(nil))
			conn := dial(t, addr)
			cl := netrpc.NewClientWithCodec(ucodec.MsgpackSpecRpc.ClientCodec(conn, h))
			defer cl.Close()

			var s string
			if err := cl.Call("echo", "hello, tokamak", &s); err != nil || s != "hello, tokamak" {
				t.Fatalf("echo string: got %q, %v, want %q", s, err, "hello, tokamak")
			}
			if err := cl.Call("ping", nil, &s); err != nil || s != "pong" {
				t.Fatalf("ping: got %q, %v, want %q", s, err, "pong")
			}
			for _, v := range []int64{0, 1, -1, 127, -33, 1 << 40, -1 << 62} {
				var got int64
				if err := cl.Call("echo", v, &got); err != nil || got != v {
					t.Fatalf("echo int: got %d, %v, want %d", got, err, v)
				}
			}
			var sum int64
			if err := cl.Call("add", ucodec.MsgpackSpecRpcMultiArgs{1, 2, 39}, &sum); err != nil || sum != 42 {
				t.Fatalf("add: got %d, %v, want 42", sum, err)
			}
			nested := map[string]any{
				"name": "tokamak",
				"n":    int64(-7),
				"deep": map[string]any{"list": []any{int64(1), "two", map[string]any{"three": int64(3)}}},
			}
			var gotMap map[string]any
			if err := cl.Call("echo", nested, &gotMap); err != nil || !reflect.DeepEqual(gotMap, nested) {
				t.Fatalf("echo map: got %#v, %v, want %#v", gotMap, err, nested)
			}
			big := make([]byte, 1_000_000)
			for i := range big {
				big[i] = byte(i * 7)
			}
			var gotBig []byte
			if err := cl.Call("echo", big, &gotBig); err != nil || !bytes.Equal(gotBig, big) {
				t.Fatalf("echo 1 MB: got %d bytes, %v, want the %d sent", len(gotBig), err, len(big))
			}
			if err := cl.Call("slowecho", "blocking", &s); err != nil || s != "blocking" {
				t.Fatalf("slowecho: got %q, %v, want %q", s, err, "blocking")
			}

			// Errors come back as the call's error, and the connection
			// goes on.
			err := cl.Call("fail", nil, &s)
			if want := "it failed"; err == nil || err.Error() != want {
				t.Fatalf("fail: got %v, want %q", err, want)
			}
			err = cl.Call("nope", nil, &s)
			if want := `unknown method "nope"`; err == nil || err.Error() != want {
				t.Fatalf("unknown method: got %v, want %q", err, want)
			}
			long := strings.Repeat("long.", 10) // the error is then a str8
			err = cl.Call(long, nil, &s)
			if want := `unknown method "` + long + `"`; err == nil || err.Error() != want {
				t.Fatalf("unknown method: got %v, want %q", err, want)
			}

			// Notifications, written with ugorji's encoder between calls:
			// never answered (the client would take an answer for a call),
			// served in order before the next call.
			for i := range 10 {
				var b []byte
				if err := ucodec.NewEncoderBytes(&b, h).Encode([]any{2, "note", []any{i}}); err != nil {
					t.Fatal(err)
				}
				if _, err := conn.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			var n int64
			if err := cl.Call("notes", nil, &n); err != nil || n != 10 {
				t.Fatalf("notes: got %d, %v, want 10", n, err)
			}

			// 1000 concurrent calls on one connection.
			var wg sync.WaitGroup
			errs := make(chan error, 1000)
			for i := range 1000 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					method := "echo"
					// 50 blocking calls: at most rpccall.MaxPending (64) may
					// be out at once on one connection, more would be "busy".
					if i%20 == 0 {
						method = "slowecho"
					}
					want := fmt.Sprintf("call %d", i)
					var got string
					if err := cl.Call(method, want, &got); err != nil || got != want {
						errs <- fmt.Errorf("%s %d: got %q, %v, want %q", method, i, got, err, want)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestNetworkMalformed: a malformed frame or a bomb closes its connection
// after the frames before it were answered, quickly and without taking
// memory; a connection open meanwhile keeps working.
func TestNetworkMalformed(t *testing.T) {
	e, addr := start(t, engine.Config{Loops: 2}, nil)
	by := dial(t, addr)
	byr := &reader{t: t, c: by}
	ping(t, by, byr)
	bombs := []struct {
		name string
		in   []byte
	}{
		{"dd ff ff ff ff", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}},
		{"echo with dd ff ff ff ff", append(msgpackrpc.AppendRequest(nil, 9, "echo", nil)[:8], 0xdd, 0xff, 0xff, 0xff, 0xff)},
		{"map32 params", append(msgpackrpc.AppendRequest(nil, 9, "echo", nil)[:8], 0xdf, 0x7f, 0xff, 0xff, 0xff)},
		{"str32 param", append(msgpackrpc.AppendRequest(nil, 9, "echo", nil)[:8], 0x91, 0xdb, 0xff, 0xff, 0xff, 0xff)},
		{"frame of 1 MiB+1", append(msgpackrpc.AppendRequest(nil, 9, "echo", nil)[:8], 0x91, 0xc6, 0x00, 0x10, 0x00, 0x00)},
		{"5 MB of nesting", append(msgpackrpc.AppendRequest(nil, 9, "echo", nil)[:8], bytes.Repeat([]byte{0x91}, 5<<20)...)},
		{"a response", msgpackrpc.AppendResult(nil, 1, nil)},
		{"not an array", []byte{0x2a}},
		{"reserved byte", []byte{0xc1}},
	}
	for _, bb := range bombs {
		t.Run(bb.name, func(t *testing.T) {
			c := dial(t, addr)
			go func() { // the server may close before all is written
				c.Write(ping1)
				c.Write(bb.in)
				c.Write(ping2)
			}()
			r := &reader{t: t, c: c}
			if got := r.next(); !bytes.Equal(got, pong1) {
				t.Fatalf("got %q, want %q", got, pong1)
			}
			r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			rest, err := io.ReadAll(c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the connection stayed open")
			}
			if len(r.buf) > 0 || len(rest) > 0 {
				t.Fatalf("got %q after the first answer, want nothing", append(r.buf, rest...))
			}
			ping(t, by, byr) // the bystander is still served
		})
	}
	if errs := e.Stats().Total().Errors; errs < uint64(len(bombs)) {
		t.Errorf("got %d errors counted, want %d at least", errs, len(bombs))
	}
}

// gate is a blocking method that waits until released.
type gate struct {
	started chan struct{} // gets a value as each call starts
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan struct{}, 100), release: make(chan struct{})} }

func (g *gate) ServeRPC(w *handlers.Reply, c *handlers.Call) {
	g.started <- struct{}{}
	<-g.release
	rpc.Echo(w, c)
}

// TestNetworkOutOfOrder: a slow blocking call does not hold up the inline
// call after it: the fast answer leaves first.
func TestNetworkOutOfOrder(t *testing.T) {
	g := newGate()
	_, addr := start(t, engine.Config{Loops: 1}, func(reg *handlers.Registry) {
		reg.HandleRPC("gate", handlers.BlockingMethod(g))
	})
	c := dial(t, addr)
	r := &reader{t: t, c: c}
	c.Write(append(msgpackrpc.AppendRequest(nil, 1, "gate", []byte{0x91, 0xa4, 's', 'l', 'o', 'w'}), ping2...))
	if got := r.next(); !bytes.Equal(got, pong2) {
		t.Fatalf("first answer: got %q, want %q", got, pong2)
	}
	close(g.release)
	want := msgpackrpc.AppendResult(nil, 1, []byte{0xa4, 's', 'l', 'o', 'w'})
	if got := r.next(); !bytes.Equal(got, want) {
		t.Fatalf("second answer: got %q, want %q", got, want)
	}
}

// TestNetworkBusy: with the pool full (one worker, a queue of one; a zero
// OffloadQueue means the default), a blocking call is answered "busy" at
// once, and the calls the pool took are answered when they complete.
func TestNetworkBusy(t *testing.T) {
	g := newGate()
	_, addr := start(t, engine.Config{Loops: 1, OffloadWorkers: 1, OffloadQueue: 1}, func(reg *handlers.Registry) {
		reg.HandleRPC("gate", handlers.BlockingMethod(g))
	})
	c := dial(t, addr)
	r := &reader{t: t, c: c}
	var in []byte
	for id := uint32(1); id <= 5; id++ {
		in = msgpackrpc.AppendRequest(in, id, "gate", []byte{0x91, byte(id)})
	}
	c.Write(in)
	<-g.started // the worker holds call 1 at least
	// Calls 3, 4 and 5 cannot fit; 2 may have, if the worker took 1 first.
	got := map[uint32][]byte{}
	for _, ok := got[5]; !ok; _, ok = got[5] {
		fr := r.next()
		got[msgid(t, fr)] = fr
	}
	for id := uint32(3); id <= 5; id++ {
		if want := msgpackrpc.AppendError(nil, id, "busy"); !bytes.Equal(got[id], want) {
			t.Errorf("call %d: got %q, want %q", id, got[id], want)
		}
	}
	if _, ok := got[1]; ok {
		t.Fatalf("call 1 answered before its method returned: %q", got[1])
	}
	close(g.release)
	for len(got) < 5 {
		fr := r.next()
		got[msgid(t, fr)] = fr
	}
	if want := msgpackrpc.AppendResult(nil, 1, []byte{1}); !bytes.Equal(got[1], want) {
		t.Errorf("call 1: got %q, want %q", got[1], want)
	}
	if busy, done := msgpackrpc.AppendError(nil, 2, "busy"), msgpackrpc.AppendResult(nil, 2, []byte{2}); !bytes.Equal(got[2], busy) && !bytes.Equal(got[2], done) {
		t.Errorf("call 2: got %q, want %q or %q", got[2], busy, done)
	}
}

func msgid(t testing.TB, fr []byte) uint32 {
	t.Helper()
	if len(fr) < 3 || fr[0] != 0x94 || fr[1] != 0x01 {
		t.Fatalf("got %q, want a response", fr)
	}
	id, _, err := mpack.ReadUint(fr[2:])
	if err != nil {
		t.Fatalf("got %q: %v", fr, err)
	}
	return uint32(id)
}

// TestNetworkDrainWaitsForBlocking: a graceful shutdown keeps a connection
// whose blocking call is pending open until the answer has been sent, then
// closes it.
func TestNetworkDrainWaitsForBlocking(t *testing.T) {
	g := newGate()
	e, addr := start(t, engine.Config{Loops: 1}, func(reg *handlers.Registry) {
		reg.HandleRPC("gate", handlers.BlockingMethod(g))
	})
	c := dial(t, addr)
	r := &reader{t: t, c: c}
	c.Write(msgpackrpc.AppendRequest(nil, 1, "gate", []byte{0x91, 0x2a}))
	<-g.started
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- e.Shutdown(ctx)
	}()
	time.Sleep(500 * time.Millisecond) // several drain sweeps: an idle connection would be closed by now
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call pending", err)
	default:
	}
	close(g.release)
	if got, want := r.next(), msgpackrpc.AppendResult(nil, 1, []byte{0x2a}); !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	r.eof()
	c.Close() // answer the server's FIN: it stops lingering
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestNetworkPipelined: many calls in one write are answered in order, and
// a frame cut across writes is served when whole.
func TestNetworkPipelined(t *testing.T) {
	_, addr := start(t, engine.Config{Loops: 1}, nil)
	c := dial(t, addr)
	r := &reader{t: t, c: c}
	var in, want []byte
	for id := uint32(0); id < 100; id++ {
		s := strings.Repeat("x", int(id))
		in = msgpackrpc.AppendRequest(in, id, "echo", mpack.AppendStr([]byte{0x91}, s))
		want = msgpackrpc.AppendResult(want, id, mpack.AppendStr(nil, s))
	}
	for i := 0; i < len(in); i += 777 {
		c.Write(in[i:min(i+777, len(in))])
		time.Sleep(time.Millisecond)
	}
	var got []byte
	for len(got) < len(want) {
		got = append(got, r.next()...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
