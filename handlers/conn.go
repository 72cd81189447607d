package handlers

import (
	"context"
	"net"
)

// Conn is the connection a request arrived on, as a handler sees it.
//
// Its methods may be called only on the connection's event loop, that is
// from inside a handler callback; the value must not be retained after the
// callback returns.
type Conn interface {
	// LocalAddr and RemoteAddr are the socket's addresses.
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
	// Loop is the index of the event loop that owns the connection.
	Loop() int
	// Value returns the per-connection value set by SetValue, or nil.
	Value() any
	// SetValue stores a per-connection value that lives as long as the
	// connection.
	SetValue(v any)
	// EngineContext is the engine-wide context: it is cancelled when the
	// engine starts shutting down.
	EngineContext() context.Context
	// Context is the connection's context: it is cancelled when the
	// connection closes. Work done for the connection off its loop (a
	// blocking handler) watches it to stop once the client has left; the
	// engine's offload pool drops queued work whose context is done.
	Context() context.Context
}

// ConnState is a change in a connection's life, reported to an observer
// such as engine.Config.ConnState.
type ConnState uint8

const (
	// StateOpen: the connection was accepted and has a codec session.
	StateOpen ConnState = iota
	// StateClosed: the connection is closed; its Conn must not be used
	// after the observer returns.
	StateClosed
)

func (s ConnState) String() string {
	switch s {
	case StateOpen:
		return "open"
	case StateClosed:
		return "closed"
	}
	return "state(?)"
}
