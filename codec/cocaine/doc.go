// Package cocaine is the server side of Cocaine v0.12, the streaming RPC
// of the Cocaine app cloud, and of its service locator. It decodes frames
// in place from a connection's inbound bytes, serves each channel with a
// stream handler ([handlers.StreamHandler], the Cocaine worker API in Go
// form) or a unary method ([handlers.Method]) of the registry, and appends
// the answers to the reactor's output. Blank-import it to register three
// codecs:
//
//	cocaine           v0.12 frames (New)
//	cocaine-v11       the older v0.11 layout (NewV11; NewWithOptions for both)
//	cocaine-locator   the locator (NewLocator), by convention on :10053
//
// # Wire format
//
// A connection carries msgpack frames back to back, with no length
// prefix: [channel, type, args] and, from clients, a fourth element, the
// headers array (HPACK trace ids; accepted and ignored). Every v0.12 frame
// the codec sends has four elements, the headers empty (0x90), as
// cocaine-core's encoder writes them (with its trace headers). Bytes travel in
// the str family: clients send them so, and the codec writes them so (see
// [Version.AppendChunk]). Channel 0 is invalid. Channel 1 carries the
// control messages, in both directions:
//
//	heartbeat  94 01 00 90 90                 [1, 0, [], []]: answered with the same
//	terminate  94 01 01 92 01 a3 62 79 65 90  [1, 1, [1, "bye"], []]: answered with the
//	                                          same code and reason, then the connection closes
//	handshake  94 01 00 91 da 00 24 <uuid> 90 [1, 0, [uuid]]: accepted and ignored
//
// A channel N ≥ 2 is opened by an invoke; then each side sends chunks and
// ends its own direction with a choke or an error:
//
//	invoke     94 02 00 91 a4 65 63 68 6f 90  [2, 0, ["echo"], []]   (or [event, tag])
//	chunk      94 02 00 91 a2 68 69 90        [2, 0, ["hi"], []]
//	error      94 02 01 92 92 2a 01 a1 78 90  [2, 1, [[42, 1], "x"], []]
//	choke      94 02 02 90 90                 [2, 2, [], []]
//
// cocaine-framework-python and -nodejs clients open their first channel
// as 1, not 2: on channel 1 a message is a control message only by its
// arguments (a heartbeat has none, a terminate's first is an integer
// where an error's is an array, a handshake's one argument is a UUID while
// channel 1 is not open); every other message there is an ordinary
// channel's. A new channel id must be above every id the connection has
// opened (clients start higher after a reconnect): a lower id that is not
// open is revoked, and its messages are dropped unserved, as are the
// messages on a channel the codec has ended. The codec sends on a channel
// only chunk, error and choke (the graph it advertises, below), and
// nothing after its choke or error.
//
// v0.11 ([V11]) orders a frame [type, session, args] with the types of
// cocaine-core v0.11: handshake 0, heartbeat 1, terminate 2 (on session 0),
// invoke 3, chunk 4, error 5 ([code, message]: no category), choke 6:
//
//	invoke     93 03 01 91 a4 65 63 68 6f     [3, 1, ["echo"]]
//	chunk      93 04 01 91 a2 68 69           [4, 1, ["hi"]]
//	error      93 05 01 92 01 a1 78           [5, 1, [1, "x"]]
//	choke      93 06 01 90                    [6, 1, []]
//	heartbeat  93 01 00 90                    [1, 0, []]
//	terminate  93 02 00 92 01 a3 62 79 65     [2, 0, [1, "bye"]]
//
// # Serving a channel
//
// An invoke's event is looked up among the stream handlers, then the
// unary methods, then the "*" fallback; an event none of them serves is
// answered with an error on its channel ([handlers.CodeUnknownMethod]).
//
// A stream handler gets OpenStream(tx, event), then its Receiver gets the
// peer's chunks, error or choke. Once the peer's direction has ended and
// that call has returned, the codec chokes the handler's direction if the
// handler left it open (the worker API's sender going out of scope), and
// the channel is gone. OpenStream returning nil closes the handler's
// direction at once and drops the peer's messages. A handler that panics
// gets its channel ended with an error ([handlers.CodeInternal]); the
// connection goes on.
//
// A unary method is called with the data of the one chunk the peer sends
// before its choke as its params, which must be one msgpack array (no
// chunk: []). It answers one chunk whose data is the msgpack result (nil
// when it set none), then a choke; or an error. Two chunks, or params that
// are not one array, are answered [handlers.CodeBadParams]. A blocking
// method runs on the engine's offload pool while the connection is
// [codec.Flow.Busy]; a full pool is answered [handlers.CodeBusy].
//
// The errors the codec answers itself are in [Category] (42, the worker
// frameworks' category) with the handlers' codes.
//
// # Bounds and failures
//
// A frame is bounded by [codec.Limits].MaxFrame and walked by an
// [mpack.Walker] before anything reads it. On one channel: an invoke past
// [Options].MaxChannels open channels, or a unary call whose buffered
// name and params would pass [Options].MaxBuffered on the connection, is
// answered with an error on its channel ([handlers.CodeBusy]), and a
// message of a type the channel's state does not allow (a channel opened
// by anything but an invoke, a type outside the graph) with
// [handlers.CodeProtocol]; the connection goes on. Fatal for the
// connection, which closes after the answers already due: malformed
// msgpack or a frame over MaxFrame, a frame that is not an array of three
// or more with unsigned channel and type and an args array (and a headers
// array if any), channel 0, and arguments that do not fit their message
// (an invoke without an event name, a chunk whose data is not bytes, an
// error without [category, code]).
//
// # The locator
//
// The locator speaks v0.12 frames. resolve is method 0 on a new channel
// with args [name] or [name, seed] (the seed is ignored), answered with
// value (type 0) [endpoints, version, graph] or error (type 1); nothing
// follows either, and the client sends nothing more on that channel:
//
//	resolve    94 01 00 91 a4 65 63 68 6f 90  [1, 0, ["echo"], []]
//	value      94 01 00 93 91 92 a9 <127.0.0.1> cd 27 76 01 <graph> 90
//	           [1, 0, [[["127.0.0.1", 10102]], 1, graph], []]
//	error      94 01 01 92 92 0a 01 b8 <service is not available> 90
//
// Every event of the registry (a stream handler or a unary method, not
// the "*" fallback) resolves to the engine's "cocaine" listeners ([codec.Env]
// Listeners; an unspecified listen address is replaced by the address the
// client reached), version 1 and the graph {0: ["enqueue", S, S]}, S =
// {0: ["write", nil], 1: ["error", {}], 2: ["close", {}]}. "locator"
// resolves to the locator's own listeners, version 3 and {0: ["resolve",
// {}, {0: ["value", {}], 1: ["error", {}]}]}. An unknown name is answered
// with cocaine-core's locator error [[10, 1], "service is not available"];
// another method than resolve with [[7, 5], "specified slot is not bound"].
// Heartbeat and terminate work as on a Cocaine connection; a malformed
// frame or malformed resolve arguments close the connection.
//
// # Flow control and draining
//
// While a frame is partly received the session is in [codec.PhaseHead];
// it sets [codec.Flow].Need from the Walker when a large part of the frame
// (a payload) is outstanding, and leaves it 0 when the frame is nearly
// whole, so that a header declaring an impossible length is refused as
// soon as its bytes arrive (the Walker's Need is a bound on the whole
// frame and can lie past such a header). While the peer owes messages
// on an open channel it is in [codec.PhaseBody]: the reactor's body
// timeout bounds the silence, and a drain, which closes only idle
// connections, waits for it. Otherwise it is [codec.PhaseIdle]. Serve
// stops at [codec.Flow].Limit of output (after one frame at least). While
// the engine drains, every frame received is answered, and the connection
// closes once no channel is open and no call is pending (the body timeout
// or the shutdown deadline bounds the wait).
//
// # Goroutines and lifetimes
//
// Everything runs on the event loop that owns the connection, one call at
// a time, except blocking methods, which run on the offload pool and
// hand their answer back with [codec.Conn.Post]. The views given to
// handlers (event, chunk data, error message, a method's name and params
// on the loop) point into the inbound buffer and stop being valid when the
// handler returns; the [handlers.Sender] too is valid only during the
// call. A handler that answers later keeps its direction with
// [handlers.Sender.Keep]: the [handlers.StreamWriter] it gets may be used
// from any goroutine but a loop's, its messages reach the loop through a
// [codec.Outbox], and the channel stays open, the connection busy, until
// it ends. The session copies only a unary call's name and params chunk,
// which must outlive their frame, into a buffer the loop reuses.
//
// Each loop has scratch space shared by its connections: a Walker, the
// Sender, the Call and Reply of unary methods, and spare Walkers, channel
// tables and buffers. A connection borrows a Walker only while a frame is
// partly received and a channel table only while channels are open: an
// idle connection holds about a hundred bytes.
package cocaine
