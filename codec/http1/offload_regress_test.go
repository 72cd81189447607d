package http1_test

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	_ "github.com/tokamak-io/tokamak/codec/http1"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
)

// startEngine serves HTTP on 127.0.0.1:0 with the handlers setup adds.
func startEngine(t *testing.T, cfg engine.Config, setup func(e *engine.Engine)) string {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e := engine.New(cfg)
	setup(e)
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	enginetest.Run(t, e)
	return addr.String()
}

// A blocking handler may use its request's Conn for LocalAddr and
// RemoteAddr off the loop (handlers.Blocking), however long it runs: even
// once the connection has closed under it. With the reactor's connection
// itself, gnet clears and recycles the addresses on close — a data race
// with the worker (go test -race) and nil addresses after it.
func TestBlockingHandlerAddrsAfterClose(t *testing.T) {
	inside := make(chan struct{})
	closed := make(chan struct{})
	got := make(chan [2]net.Addr, 1)
	addr := startEngine(t, engine.Config{Loops: 1}, func(e *engine.Engine) {
		e.Handle("GET", "/slow", handlers.Blocking(handlers.HandlerFunc(func(w *handlers.Response, r *handlers.Request) {
			close(inside)
			<-closed
			got <- [2]net.Addr{r.Conn.LocalAddr(), r.Conn.RemoteAddr()}
		})))
	})
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	local := c.LocalAddr().String()
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-inside
	c.Close()
	time.Sleep(200 * time.Millisecond) // the server sees the close
	close(closed)
	a := <-got
	if a[0] == nil || a[0].String() != addr {
		t.Errorf("LocalAddr after close: %v, want %s", a[0], addr)
	}
	if a[1] == nil || a[1].String() != local {
		t.Errorf("RemoteAddr after close: %v, want %s", a[1], local)
	}
}
