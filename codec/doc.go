// Package codec is the contract between tokamak's reactor and its protocol
// plugins. It imports nothing of tokamak but the handler types, so a
// third-party codec depends on this package and package handlers only.
//
// A plugin registers a [Factory] under a URL scheme name in its init
// function ([Register]); the engine looks it up when a listener with that
// scheme is added ("http://:8080" → "http"), builds one [Codec] per scheme,
// and the reactor asks it for a [Session] per connection.
//
// # Goroutines
//
// Every method of a Session runs on the event loop that owns the
// connection, one call at a time: a session needs no locks. Handlers called
// from a session run there too. Work moved to other goroutines comes back
// with [Conn.Post], which runs its function on the loop.
//
// # Bytes
//
// Serve gets a view of the connection's inbound buffer: the bytes stop being
// valid when Serve returns, and the consumed ones are discarded then. A
// session that must keep bytes across calls copies them. Replies are
// appended to [Flow.Out], which the reactor writes in one write after the
// call and then reuses.
//
// # Errors
//
// [ErrIncomplete] is flow control and is returned unwrapped. Malformed input
// is a [*SyntaxError] (or a codec's own error type carrying one) with the
// offset of the offending byte; the session answers it in its protocol's
// terms (an HTTP status, an RPC error) and closes only its own connection.
package codec
