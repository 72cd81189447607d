package offload

import (
	"context"
	"net"
	"testing"
)

// loopConn is a Conn whose addresses vanish when it closes, as gnet's do.
type loopConn struct {
	local, remote net.Addr
	value         any
}

func (c *loopConn) LocalAddr() net.Addr            { return c.local }
func (c *loopConn) RemoteAddr() net.Addr           { return c.remote }
func (c *loopConn) Loop() int                      { return 3 }
func (c *loopConn) Value() any                     { return c.value }
func (c *loopConn) SetValue(v any)                 { c.value = v }
func (c *loopConn) EngineContext() context.Context { return context.Background() }
func (c *loopConn) Context() context.Context       { return context.Background() }

// Work handed to the pool keeps the connection's addresses however long it
// runs, and never touches the loop's connection.
func TestDetachKeepsAddresses(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	c := &loopConn{local: local, remote: remote, value: "v"}
	d := Detach(c)
	c.local, c.remote, c.value = nil, nil, nil // closed and released on the loop
	if d.LocalAddr() != local || d.RemoteAddr() != remote || d.Loop() != 3 || d.Value() != "v" || d.EngineContext() == nil {
		t.Fatalf("detached: %v %v %d %v", d.LocalAddr(), d.RemoteAddr(), d.Loop(), d.Value())
	}
	d.SetValue("w")
	if c.value != nil || d.Value() != "w" {
		t.Errorf("SetValue on the copy reached the connection")
	}
	if Detach(d) != d || Detach(nil) != nil {
		t.Errorf("Detach of a detached Conn or nil")
	}
}
