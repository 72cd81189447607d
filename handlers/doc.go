// Package handlers is what applications write against: the HTTP handler
// contract ([Handler], [Request], [Response], [Conn]), unary RPC methods
// ([Method], [Call], [Reply]) and stream handlers ([StreamHandler],
// [Sender], [Receiver]), the [Registry] that codecs dispatch to, and the
// built-in HTTP handlers of the server binary ([RegisterBuiltins]; the RPC
// built-ins are in package rpc). It imports no other tokamak package, so a
// codec written elsewhere needs only this package and codec.
//
// RPC params and results are msgpack bytes here: [Call.Params] is one
// array the codec has already walked and bounded, [Reply.SetResult] takes
// one value. Package codec/mpack reads and writes them.
//
// # Goroutines
//
// Handlers run on the event loop (reactor goroutine) that owns the
// connection, one request at a time per loop. A handler must not block:
// while it runs, every other connection of its loop waits. A handler that
// has to block is marked with [Blocking] (HTTP, or any [Blocker]) or
// [BlockingMethod] (RPC): the codec then runs it on the engine's bounded
// offload pool, with a copy of its input, and sends its answer when it is
// done — HTTP responses still in request order.
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
