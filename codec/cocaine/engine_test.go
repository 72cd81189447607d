package cocaine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
	"github.com/tokamak-io/tokamak/rpc"
)

// startEngine runs an engine with the built-ins, a blocking method and a
// Cocaine, a v0.11 and a locator listener on 127.0.0.1:0; it returns their
// addresses.
func startEngine(t *testing.T, cfg engine.Config) (e *engine.Engine, cocaine, v11, locator string) {
	t.Helper()
	cfg.Logger = testLog
	e = engine.New(cfg)
	rpc.RegisterBuiltins(e.Handlers())
	e.Handlers().HandleRPC("slowecho", handlers.BlockingMethod(handlers.MethodFunc(func(w *handlers.Reply, c *handlers.Call) {
		time.Sleep(10 * time.Millisecond)
		rpc.Echo(w, c)
	})))
	addrs := make([]string, 3)
	for i, scheme := range []string{"cocaine", "cocaine-v11", "cocaine-locator"} {
		a, err := e.Listen(scheme + "://127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = a.String()
	}
	enginetest.Run(t, e)
	return e, addrs[0], addrs[1], addrs[2]
}

// client is a raw TCP Cocaine client that writes what the real clients
// write: four-element frames, headers [] (0x90), bytes as str.
type client struct {
	t   *testing.T
	c   net.Conn
	buf []byte
	v   Version
}

func dialCocaine(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c}
}

func (c *client) send(frames ...[]byte) {
	c.t.Helper()
	if _, err := c.c.Write(join(frames...)); err != nil {
		c.t.Fatal(err)
	}
}

// next reads one frame, checked by a Walker, or reports io.EOF.
func (c *client) next() ([]byte, error) {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var w mpack.Walker
	w.Limits.MaxFrame = 1 << 24
	for {
		if len(c.buf) > 0 {
			n, err := w.Walk(c.buf)
			if err == nil {
				frame := bytes.Clone(c.buf[:n])
				c.buf = c.buf[n:]
				return frame, nil
			}
			if err != codec.ErrIncomplete {
				c.t.Fatalf("server sent malformed msgpack: %v", err)
			}
		}
		var b [4096]byte
		n, err := c.c.Read(b[:])
		c.buf = append(c.buf, b[:n]...)
		if err != nil {
			return nil, err
		}
	}
}

// read reads n frames and renders them.
func (c *client) read(n int) string {
	c.t.Helper()
	var out []byte
	for range n {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("reading frame: %v (after %q)", err, render(c.t, c.v, out))
		}
		out = append(out, f...)
	}
	return render(c.t, c.v, out)
}

// closed reports whether the server closed the connection (EOF or reset)
// with nothing more sent.
func (c *client) closed() bool {
	c.t.Helper()
	f, err := c.next()
	if err == nil {
		c.t.Errorf("got a frame %q, want the connection closed", render(c.t, c.v, f))
		return false
	}
	c.c.Close() // so that the server's linger ends at once
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// resolve asks the locator for name on channel ch and returns the value's
// endpoints, version and graph.
func resolve(t *testing.T, lc *client, ch uint64, name string) (endpoints []string, version uint64, graph []byte) {
	t.Helper()
	lc.send(AppendResolve(nil, ch, name))
	frame, err := lc.next()
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	if err := V12.Parse(frame, &m); err != nil || m.Channel != ch || m.Type != TypeValue || m.NArgs != 3 {
		t.Fatalf("resolve %s: got %q, want a value on channel %d", name, render(t, V12, frame), ch)
	}
	n, b, _ := mpack.ReadArrayHeader(m.Args)
	for range n {
		_, b, _ = mpack.ReadArrayHeader(b)
		var host []byte
		var port uint64
		host, b, _ = mpack.ReadStr(b)
		port, b, _ = mpack.ReadUint(b)
		endpoints = append(endpoints, net.JoinHostPort(string(host), strconv.FormatUint(port, 10)))
	}
	version, b, err = mpack.ReadUint(b)
	if err != nil {
		t.Fatal(err)
	}
	return endpoints, version, b
}

// TestEngine: a client resolves echo through the locator, connects to the
// endpoint advertised and calls the stream echo and the method ping, as
// cocaine-framework-python does (channels from 1) and as
// cocaine-framework-go does (channels from 2).
func TestEngine(t *testing.T) {
	_, addr, _, laddr := startEngine(t, engine.Config{Loops: 2})
	lc := dialCocaine(t, laddr)
	eps, version, graph := resolve(t, lc, 1, "echo")
	if len(eps) != 1 || eps[0] != addr || version != AppVersion || !bytes.Equal(graph, graphApp) {
		t.Fatalf("resolve echo: got %v, %d, % x; want [%s], 1, the app graph", eps, version, graph, addr)
	}
	if eps, version, graph := resolve(t, lc, 2, "locator"); len(eps) != 1 || eps[0] != laddr || version != LocatorVersion ||
		!bytes.Equal(graph, graphLocator) {
		t.Errorf("resolve locator: got %v, %d, % x; want [%s], 3, the locator graph", eps, version, graph, laddr)
	}
	if eps, _, _ := resolve(t, lc, 3, "slowecho"); len(eps) != 1 || eps[0] != addr {
		t.Errorf("resolve slowecho: got %v, want [%s]", eps, addr)
	}
	lc.send(AppendResolve(nil, 4, "nope"))
	if got, want := lc.read(1), lines(`[4 1 [[10 1] "service is not available"] []]`); got != want {
		t.Errorf("resolve nope: got %q, want %q", got, want)
	}

	for _, first := range []uint64{1, 2} {
		c := dialCocaine(t, eps[0])
		a, b, s := first, first+1, first+2
		c.send(invoke(a, "echo"), chunk(a, "hello"))
		if got, want := c.read(1), lines(fmt.Sprintf(`[%d 0 ["hello"] []]`, a)); got != want {
			t.Errorf("echo: got %q, want %q", got, want)
		}
		c.send(invoke(b, "ping"), chunk(b, "\x90"), choke(b), chunk(a, strings.Repeat("w", 70000)), choke(a))
		want := lines(fmt.Sprintf(`[%d 0 ["\xa4pong"] []]`, b), fmt.Sprintf(`[%d 2 [] []]`, b),
			fmt.Sprintf(`[%d 0 ["%s"] []]`, a, strings.Repeat("w", 70000)), fmt.Sprintf(`[%d 2 [] []]`, a))
		if got := c.read(4); got != want {
			t.Errorf("ping and echo: got %d bytes, want %q...", len(got), want[:40])
		}
		c.send(invoke(s, "slowecho"), chunk(s, "\x91\xa4slow"), choke(s), V12.AppendHeartbeat(nil))
		want = lines(`[1 0 [] []]`, fmt.Sprintf(`[%d 0 ["\xa4slow"] []]`, s), fmt.Sprintf(`[%d 2 [] []]`, s))
		if got := c.read(3); got != want {
			t.Errorf("blocking method: got %q, want %q", got, want)
		}
		c.send(V12.AppendTerminate(nil, TerminateNormal, "bye"))
		if got, want := c.read(1), lines(`[1 1 [1 "bye"] []]`); got != want {
			t.Errorf("terminate: got %q, want %q", got, want)
		}
		if !c.closed() {
			t.Error("not closed after terminate")
		}
	}
}

// TestEngineV11: the v0.11 listener.
func TestEngineV11(t *testing.T) {
	_, _, addr, _ := startEngine(t, engine.Config{Loops: 1})
	c := dialCocaine(t, addr)
	c.v = V11
	c.send(unhex(t, hexV11Handshake+hexV11Heartbeat+hexV11Invoke+hexV11Chunk+hexV11Choke))
	if got, want := c.read(3), lines(`[1 0 []]`, `[4 1 ["hi"]]`, `[6 1 []]`); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestEngineMalformed: each malformed frame closes its own connection;
// another connection, open all along, is still served.
func TestEngineMalformed(t *testing.T) {
	_, addr, _, laddr := startEngine(t, engine.Config{Loops: 2})
	good := dialCocaine(t, addr)
	good.send(invoke(2, "echo"))
	next := uint64(3)
	for _, tc := range []struct {
		name, addr string
		parts      []string
	}{
		{"bomb", addr, []string{"94 02 00 dd ff ff ff ff"}},
		{"bomb split", addr, []string{"94 02 00 dd", "ff ff ff ff"}},
		{"bomb 3 elements", addr, []string{"93 01 00 dd ff ff ff ff"}},
		{"bomb bare", addr, []string{"dd ff ff ff ff"}},
		{"map32 bomb", addr, []string{"94 02 00 91 df ff ff ff ff"}},
		{"deep", addr, []string{strings.Repeat("91 ", 100)}},
		{"channel 0", addr, []string{"94 00 00 91 a4 65 63 68 6f 90"}},
		{"garbage", addr, []string{"47 45 54 20 2f 20 48 54 54 50"}},
		{"locator bomb", laddr, []string{"94 01 00 91 dd ff ff ff ff"}},
		{"locator bad args", laddr, []string{"94 02 00 91 01 90"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := dialCocaine(t, tc.addr)
			for i, p := range tc.parts {
				if i > 0 {
					time.Sleep(20 * time.Millisecond) // two reads on the server
				}
				bad.send(unhex(t, p))
			}
			if !bad.closed() {
				t.Error("malformed connection not closed")
			}
			data := "still " + tc.name
			good.send(chunk(2, data))
			if got, want := good.read(1), lines(fmt.Sprintf(`[2 0 [%q] []]`, data)); got != want {
				t.Errorf("the other connection: got %q, want %q", got, want)
			}
			good.send(invoke(next, "ping"), choke(next))
			if got := good.read(2); !strings.Contains(got, "pong") {
				t.Errorf("the other connection: got %q, want pong", got)
			}
			next++
		})
	}
}

// TestEngineDrain: while the engine shuts down, a connection with an open
// channel is served until the channel ends, then closed.
func TestEngineDrain(t *testing.T) {
	e, addr, _, _ := startEngine(t, engine.Config{Loops: 1})
	c := dialCocaine(t, addr)
	c.send(invoke(2, "echo"), chunk(2, "before"))
	if got, want := c.read(1), lines(`[2 0 ["before"] []]`); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	idle := dialCocaine(t, addr)
	idle.send(invoke(2, "ping"), choke(2))
	idle.read(2)
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- e.Shutdown(ctx)
	}()
	time.Sleep(300 * time.Millisecond) // a few drain sweeps
	if !idle.closed() {
		t.Error("an idle connection was not closed by the drain")
	}
	c.send(chunk(2, "during"), choke(2))
	if got, want := c.read(2), lines(`[2 0 ["during"] []]`, `[2 2 [] []]`); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !c.closed() {
		t.Error("not closed once its channel ended")
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestEngineTimeout: a channel left silent is bounded by the body timeout;
// the peer is told why on the channel.
func TestEngineTimeout(t *testing.T) {
	_, addr, _, _ := startEngine(t, engine.Config{Loops: 1, BodyTimeout: 200 * time.Millisecond, IdleTimeout: time.Hour})
	c := dialCocaine(t, addr)
	c.send(invoke(2, "echo"))
	t0 := time.Now()
	if got, want := c.read(1), lines(`[2 1 [[42 6] "`+msgTimeout+`"] []]`); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !c.closed() {
		t.Error("not closed")
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("closed after %v, want about the body timeout", d)
	}
	// Without an open channel the idle timeout applies.
	c = dialCocaine(t, addr)
	c.send(invoke(2, "ping"), choke(2))
	c.read(2)
	_ = c.c.SetReadDeadline(time.Now().Add(600 * time.Millisecond))
	var b [1]byte
	if _, err := c.c.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("idle connection: %v, want it kept open", err)
	}
}
