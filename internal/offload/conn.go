package offload

import (
	"context"
	"net"

	"github.com/tokamak-io/tokamak/handlers"
)

// Detach returns a copy of c for work that runs off the event loop: its
// LocalAddr, RemoteAddr, Loop, EngineContext, Context and Value are read
// now, on the loop, and stay valid however long the work runs — even once the
// connection has closed, when the reactor's own Conn no longer knows them
// (gnet clears a closed connection's addresses and reuses its descriptor).
// SetValue on the copy changes only the copy: the connection's value
// belongs to its loop. Detach must be called on c's event loop.
func Detach(c handlers.Conn) handlers.Conn {
	if c == nil {
		return nil
	}
	if d, ok := c.(*detached); ok {
		return d
	}
	return &detached{
		local:  c.LocalAddr(),
		remote: c.RemoteAddr(),
		loop:   c.Loop(),
		value:  c.Value(),
		ctx:    c.EngineContext(),
		conn:   c.Context(),
	}
}

type detached struct {
	local, remote net.Addr
	loop          int
	value         any
	ctx, conn     context.Context
}

func (d *detached) LocalAddr() net.Addr            { return d.local }
func (d *detached) RemoteAddr() net.Addr           { return d.remote }
func (d *detached) Loop() int                      { return d.loop }
func (d *detached) Value() any                     { return d.value }
func (d *detached) SetValue(v any)                 { d.value = v }
func (d *detached) EngineContext() context.Context { return d.ctx }
func (d *detached) Context() context.Context       { return d.conn }
