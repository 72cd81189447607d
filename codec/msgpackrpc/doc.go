// Package msgpackrpc is the MessagePack-RPC server codec
// (https://github.com/msgpack-rpc/msgpack-rpc/blob/master/spec.md): it reads
// requests and notifications in place from a connection's inbound bytes,
// calls the unary methods of a [handlers.Registry] and writes their
// responses. It registers itself as the codec "msgpackrpc"; a blank import
// makes it available:
//
//	import _ "github.com/tokamak-io/tokamak/codec/msgpackrpc"
//
// # Protocol
//
// A connection carries concatenated msgpack arrays, with no length prefix:
//
//	request       [0, msgid uint32, method str, params array]
//	response      [1, msgid, error, result]
//	notification  [2, method str, params array]
//
// Every request gets one response, as soon as its call completes; a
// notification never gets one, not even for an error. The error of a
// response is nil on success, else a str (clients such as net/rpc with
// ugorji's MsgpackSpecRpc turn it into the call's error), and its result is
// then nil. A method name may also come as a bin: some msgpack libraries
// send byte strings that way.
//
// What the codec answers with an error response, keeping the connection:
// an unknown method (`unknown method "foo"`), a method name that is not a
// str or bin, params that are not an array, a method's own error (its
// message), a method panic ("internal error", logged and counted), a full
// offload pool ("busy"). What closes the connection, after the frames
// before it were answered: bytes that are not a msgpack frame within the
// limits ([mpack.Walker]: reserved bytes, nesting over 32, a frame over
// Limits.MaxFrame, refused from its header alone), and a well-formed
// msgpack value that is not a request or notification: not an array, an
// array of the wrong length for its type, a type other than 0 or 2 (a
// client has no business sending a response), a msgid that is not an
// integer in 0..2^32-1. A msgid is echoed as the same number, written in
// its shortest form. The handlers' error codes are not sent: the spec has
// no place for them.
//
// # Flow control
//
// A frame is walked, then served, only once it is whole. Until then Serve
// consumes nothing of it, reports [codec.PhaseHead] (the header timeout
// bounds a frame's arrival) and sets [codec.Flow].Need to the least length
// the walk so far allows: a frame whose header declares more than
// Limits.MaxFrame is refused as soon as that header is in, but one nested
// in containers that still promise elements is refused once those bytes
// are in too. Serve stops dispatching once Flow.Out reaches Flow.Limit,
// after one frame at least. While the engine drains, every frame received
// is answered — a partial one is waited for — and the connection closes
// after the last answer, when no offloaded call is pending; otherwise the
// answer of the last one closes it. After a malformed frame nothing more
// is read, but the offloaded calls made before it are still answered
// before the connection closes.
//
// # Goroutines
//
// A session runs on the event loop that owns its connection, one call at a
// time, and so do non-blocking methods: their responses are appended to
// [codec.Flow].Out in request order. A method marked with
// [handlers.BlockingMethod] runs on the engine's offload pool; its response
// comes back through [codec.Conn.Post] and leaves whenever it is ready,
// possibly before the answers of calls made earlier. While such calls are
// pending the session keeps [codec.Flow].Busy set, so no idle timeout runs
// and a drain waits for them.
//
// Each loop has its own scratch space, made on its first connection and
// shared by its sessions: a [mpack.Walker], the [handlers.Call] and
// [handlers.Reply] of the call being served, and spare Walkers. A session
// borrows a Walker only while a frame of it is partly received, so that the
// walk resumes where it stopped; an idle session holds a few pointers
// (under 64 bytes).
//
// # Buffers
//
// A request is not copied on the loop: the method name and params handed to a
// non-blocking method are views into the inbound buffer given to Serve and
// stop being valid when the method returns; its result is appended to the
// reactor's Flow.Out, which the reactor writes once per call. For a
// blocking method the name and params are copied first, and the worker's
// Reply lives until its response is appended on the loop.
package msgpackrpc
