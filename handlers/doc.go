// Package handlers is what applications write against: the HTTP handler
// contract ([Handler], [Request], [Response], [Conn]), the route
// [Registry] that codecs dispatch to, and the built-in handlers of the
// server binary ([RegisterBuiltins]). It imports no other tokamak package,
// so a codec written elsewhere needs only this package and codec.
//
// # Goroutines
//
// Handlers run on the event loop (reactor goroutine) that owns the
// connection, one request at a time per loop. A handler must not block:
// while it runs, every other connection of its loop waits. Blocking work is
// handed off and its answer posted back to the loop.
//
// The registry is filled before the engine starts, from one goroutine; the
// engine then calls [Registry.Freeze], after which it is read-only. That is
// why [Registry.Route] takes no lock and may run on every loop at once.
//
// # Lifetimes
//
// Every []byte a handler receives in a [Request] (method, target, path,
// headers, body, parameters) is a view into the connection's inbound
// buffer: the bytes stop being valid when the handler returns, and the
// Request itself is reused for the next request. The same holds for the
// [Response] and the [Conn]. Copy whatever must outlive the call.
//
// # Allocation
//
// Routing and the built-in handlers allocate nothing per request once the
// loop's Response buffers have grown to the size of the answers; tests
// check it with [testing.AllocsPerRun].
package handlers
