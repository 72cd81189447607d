// Package reactor runs tokamak's event loops on gnet and feeds each
// connection's bytes to its codec session.
//
// # Goroutines
//
// There is one gnet event loop per configured loop, each with its own
// SO_REUSEPORT listener per address, so the kernel spreads accepted
// connections over the loops. A connection belongs to one loop for life:
// its open, traffic, timer and close handling, its codec session and every
// handler it calls run on that loop's goroutine, one at a time, without
// locks. gnet's ticker goroutine only advances the clock and asks each loop
// to sweep its timers (EventLoop.Execute). Work handed off to other
// goroutines comes back through [codec.Conn] Post, which also runs on the
// loop.
//
// # Bytes
//
// Input is a view of gnet's buffers (Peek): it is handed to the session's
// Serve and stops being valid when Serve returns; the reactor discards the
// bytes the session consumed after the call. Replies are appended to one
// per-loop buffer (codec.Flow.Out) and leave in one write per call; gnet
// copies what the socket does not take at once into the connection's
// outbound buffer, so the per-loop buffer is free again after the write.
//
// # Bounds
//
// Output: above HighWater buffered bytes a connection's input is not served
// until the output drains below LowWater; a connection whose input passes
// MaxInboundPaused meanwhile is closed. Descriptors: the soft limit is
// raised to the hard limit and connections are capped below it, so accept
// never fails with EMFILE; should gnet stop its loops anyway, Run starts
// them again. Timers: a per-loop timing wheel runs the header, body, idle,
// close and linger timeouts.
//
// # Closing
//
// A connection closes gracefully: its remaining input is dropped, its
// output is flushed, its write side is shut (FIN), and it waits up to
// Linger for the peer to close, so that a final reply (an error, a
// Connection: close response) arrives whole instead of being cut by a
// reset.
package reactor
