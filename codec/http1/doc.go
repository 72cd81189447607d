// Package http1 is the HTTP/1.1 server codec (RFC 9112, RFC 9110): it
// parses requests in place from a connection's inbound bytes, routes them
// through a [handlers.Registry], calls their handlers and encodes the
// responses. It registers itself as the codec "http"; a blank import
// makes it available:
//
//	import _ "github.com/tokamak-io/tokamak/codec/http1"
//
// The parts can also be used on their own: [Parser.ParseHead] reads a
// request head into a [handlers.Request] and a [Head], [Parser.ParseChunked]
// decodes a chunked body in place, [AppendError] and [AppendDate] encode.
// docs/http.md lists the rules enforced and the tests that prove them.
//
// # Goroutines
//
// Everything a session does runs on the event loop that owns its
// connection, one call at a time: parsing, routing, the handler and the
// encoding of its response. Each loop has its own scratch space — the
// [handlers.Request], its header fields and the [handlers.Response] — made
// on its first connection and shared by all the connections of the loop,
// which is why a session holds only the progress through a partly received
// request (under 200 bytes). A [Parser] holds only limits and may be used
// from any goroutine. The package starts one goroutine, on first use,
// which refreshes the cached Date once a second.
//
// # Buffers
//
// The session never copies a request. The views of a handlers.Request —
// method, target, path, query, version, host, header and trailer fields,
// body — point into the inbound buffer given to Serve and stop being valid
// when the handler returns; the Request and Response themselves are reused
// for the next request of the loop. A chunked body is decoded in place:
// once the whole body is known to be buffered, its chunk data is moved
// together over the chunk framing, inside the bytes Serve then reports as
// consumed, never beyond them. Responses are appended to the reactor's
// [codec.Flow].Out, which the reactor writes once per call.
//
// # Flow control
//
// A request is served only once its head and body are both buffered
// (bounded by the limits: 413 before any body byte for a declared length
// over MaxBody). Until then Serve consumes nothing and says what it waits
// for: [codec.PhaseHead] or [codec.PhaseBody], and [codec.Flow].Need when
// the length is known. Parsing restarts from the first byte of the request
// on each call, but the parsers remember in [Head] and [Chunked] how far
// the bytes were already checked, so a head or body that arrives byte by
// byte is checked once, not once per byte. A request the codec refuses is
// answered with its status, "Connection: close", and the connection
// closes: nothing after it is read.
package http1
