package msgpackrpc_test

import (
	"net"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/codec/msgpackrpc"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
)

// A blocking method may use its Call's Conn for LocalAddr and RemoteAddr
// (handlers.Call), off the loop, however long it runs: even once the
// connection has closed under it. With the reactor's connection itself,
// gnet clears and recycles the addresses on close — a data race with the
// worker (go test -race) and a nil RemoteAddr after it.
func TestBlockingMethodAddrsAfterClose(t *testing.T) {
	inside := make(chan struct{})
	closed := make(chan struct{})
	got := make(chan [2]net.Addr, 1)
	_, addr := start(t, engine.Config{Loops: 1}, func(reg *handlers.Registry) {
		reg.HandleRPC("addrs", handlers.BlockingMethod(handlers.MethodFunc(func(w *handlers.Reply, c *handlers.Call) {
			close(inside)
			<-closed
			got <- [2]net.Addr{c.Conn.LocalAddr(), c.Conn.RemoteAddr()}
		})))
	})
	c := dial(t, addr)
	local := c.LocalAddr().String()
	if _, err := c.Write(msgpackrpc.AppendRequest(nil, 1, "addrs", nil)); err != nil {
		t.Fatal(err)
	}
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
