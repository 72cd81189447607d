// Package mpack reads msgpack in place and writes it append-style, for the
// msgpack codecs (Cocaine, MessagePack-RPC). A [Walker] checks each frame
// before anything decodes it, the Read functions take a frame apart as
// views of the input, and the Append functions write objects to an output
// buffer. None of them allocates (only [Walk], the one-shot form of the
// Walker, allocates the error it returns).
//
// # Walk first
//
// A msgpack object declares the lengths of what follows it, and a careless
// decoder believes them: msgpack/v5 v5.4.1 dies, with an out-of-memory
// error no recover catches, on the five bytes dd ff ff ff ff (an array of
// 2^32-1 elements), and 5 MB of nested arrays overflow its stack. So no
// byte from a peer reaches msgpack/v5, or the Read functions of this
// package, before a [Walker] has accepted the frame it belongs to:
//
//	w := mpack.Walker{Limits: mpack.Limits{MaxFrame: env.Limits.MaxFrame}}
//	...
//	n, err := w.Walk(in)        // w: the connection's Walker
//	switch {
//	case err == codec.ErrIncomplete:
//		f.Need = w.Need()   // wait for more bytes
//	case err != nil:
//		// *mpack.Error: answer it, close the connection
//	default:
//		frame := in[:n]     // now decode it: ReadArrayHeader, ReadUint, ...
//	}
//
// The walker refuses a frame as soon as it is known to be malformed or too
// large: a declared length or count that cannot fit in what is left of
// [Limits.MaxFrame] (an array of n elements takes n bytes at least, a map
// of n pairs 2n) is an [*Error] when its header is read, before any of its
// bytes are buffered. A declared length that does fit, but not in the bytes
// present, is [codec.ErrIncomplete]: more bytes may complete the frame. Every
// proper prefix of a valid frame is incomplete, never malformed.
//
// # Reading
//
// The Read functions follow tinylib/msgp's Read*Bytes: each decodes the
// object at the start of b and returns the rest. Views ([ReadStr],
// [ReadBin], [ReadStrOrBin], [ReadExt]) are slices of b, not copies: they
// are valid as long as b is. For a codec, b is a view of the connection's
// inbound buffer, so the views stop being valid when Serve returns; copy
// what must outlive it. The readers never panic or read past len(b) on any
// input, but only a walked frame has its sizes bounded. Cocaine clients send
// bytes in the str family: read them with [ReadStrOrBin].
//
// # Goroutines
//
// The functions are pure and safe for concurrent use. A [Walker] holds the
// state of one frame between calls and belongs to one goroutine (a
// connection's event loop).
package mpack
