package handlers

import (
	"errors"
	"fmt"
	"slices"
)

// StreamHandler serves the streams a peer opens with its event name: a
// Cocaine channel (invoke), or an HTTP request bridged to a stream (see
// package bridge). It is the Cocaine worker API in Go form: the handler
// gets a [Sender] for its direction and returns the [Receiver] of the
// peer's.
//
// Every call — OpenStream and the Receiver's — runs on the connection's
// event loop and must not block. tx and the byte slices passed are valid
// only during the call that received them: a handler keeps what it needs
// to remember in its Receiver, never tx or the views.
type StreamHandler interface {
	// OpenStream is called when the peer opens a stream for event. It
	// returns the Receiver of the peer's messages on this stream, or nil
	// when the handler is done with the stream at once: the peer's
	// messages are then dropped, and the stream is closed for the handler
	// (see [Sender]).
	OpenStream(tx Sender, event []byte) Receiver
}

// StreamFunc adapts a function to [StreamHandler].
type StreamFunc func(tx Sender, event []byte) Receiver

// OpenStream calls f(tx, event).
func (f StreamFunc) OpenStream(tx Sender, event []byte) Receiver { return f(tx, event) }

// Receiver gets what the peer sends on one stream, in order. After Error or
// Close the peer's direction is over and nothing more is delivered: the
// handler is done with the stream when that call returns.
type Receiver interface {
	// Chunk is one message of data. data is a view valid during the call.
	Chunk(tx Sender, data []byte)
	// Error ends the peer's direction with an error: category and code as
	// the peer sent them, msg a view valid during the call.
	Error(tx Sender, category, code int, msg []byte)
	// Close ends the peer's direction normally (Cocaine "choke").
	Close(tx Sender)
}

// Sender is the handler's direction of a stream. Its methods may be called
// only during a call of the stream's handler (OpenStream or the
// Receiver's), on the event loop. A handler that answers later, from
// another goroutine, keeps the direction with Keep.
//
// The direction ends with Close or Error, after which the other methods do
// nothing. When the handler is done with the stream — OpenStream returned
// nil, or the peer's direction ended and its Receiver call returned — and
// its own direction is still open and not kept, the codec closes it for
// the handler, as the Cocaine worker does when a sender goes out of scope.
type Sender interface {
	// Write sends one chunk. The codec copies data before Write returns.
	Write(data []byte)
	// Error ends the handler's direction with an error.
	Error(category, code int, msg string)
	// Close ends the handler's direction normally.
	Close()
	// Closed reports whether the handler's direction has ended.
	Closed() bool
	// Conn is the connection the stream runs on.
	Conn() Conn
	// Keep hands the handler's direction to a StreamWriter that stays
	// valid after the call, for a handler that answers from another
	// goroutine. From then on the codec no longer closes the direction
	// when the handler is done with the stream: the handler must end it
	// with the StreamWriter's Close or Error, or the connection must
	// close. The Sender's own methods go on working during handler calls,
	// in order with the StreamWriter's messages. Keep returns the same
	// StreamWriter each time; for a direction already ended it returns
	// one whose methods answer ErrStreamClosed.
	Keep() StreamWriter
}

// ErrStreamClosed is what a [StreamWriter] or a [BodyWriter] answers once
// its stream has ended or its connection has closed.
var ErrStreamClosed = errors.New("handlers: the stream is closed")

// StreamWriter is the handler's direction of a stream, kept past the
// handler's call (see [Sender.Keep]). Its methods may be called from any
// goroutine but an event loop's: Write waits while the stream has a
// window's worth of messages (64 KiB by default) not yet taken by the
// connection's loop, which takes them only while the peer reads — so a
// peer that stops reading stops the writer, and one that reads nothing for
// the close timeout (10 s by default) is disconnected. On an event loop,
// during a call of the stream's handler, use the call's Sender instead.
//
// Every method returns ErrStreamClosed once the direction has ended, by
// Close or Error or because the connection closed; Done is closed then.
type StreamWriter interface {
	// Write sends one chunk; data is copied before Write returns.
	Write(data []byte) error
	// Error ends the direction with an error.
	Error(category, code int, msg string) error
	// Close ends the direction normally.
	Close() error
	// Done is closed when the direction has ended.
	Done() <-chan struct{}
}

// HandleStream registers h for the streams opened with event. The event
// "*" registers the fallback, which serves every event that has neither a
// stream handler nor a unary method of its name. It panics on a nil
// handler, an empty event, an event registered twice or a call after
// [Registry.Freeze].
//
// A codec that carries streams (Cocaine) looks the event up among the
// stream handlers first, then among the unary methods, then falls back to
// "*": so a name may have both a stream handler, for stream protocols, and
// a unary method, for MessagePack-RPC and HTTP.
func (r *Registry) HandleStream(event string, h StreamHandler) {
	r.checkOpen()
	if h == nil {
		panic(fmt.Sprintf("handlers: nil stream handler %q", event))
	}
	if f, ok := h.(StreamFunc); ok && f == nil {
		panic(fmt.Sprintf("handlers: nil stream handler %q", event))
	}
	if event == "" {
		panic("handlers: empty stream event")
	}
	if event == "*" {
		if r.streamFallback != nil {
			panic(`handlers: stream fallback "*" registered twice`)
		}
		r.streamFallback = h
		return
	}
	if _, dup := r.streams[event]; dup {
		panic(fmt.Sprintf("handlers: stream %q registered twice", event))
	}
	r.streams[event] = h
}

// Stream returns the stream handler registered for event, or nil. It does
// not fall back: see [Registry.StreamFallback]. It does not allocate.
func (r *Registry) Stream(event []byte) StreamHandler { return r.streams[string(event)] }

// StreamFallback returns the handler registered for "*", or nil.
func (r *Registry) StreamFallback() StreamHandler { return r.streamFallback }

// StreamNames returns the events with a stream handler, sorted, without
// the fallback.
func (r *Registry) StreamNames() []string { return sortedKeys(r.streams) }

// Events returns every name a stream protocol can open: the stream events
// and the unary methods, sorted, each once. Cocaine's locator advertises
// them.
func (r *Registry) Events() []string {
	names := sortedKeys(r.streams)
	for k := range r.rpc {
		if _, ok := r.streams[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}
