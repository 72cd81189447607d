package rpc

import (
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
)

// RegisterBuiltins registers the built-in RPC methods and streams, whose
// answers scripts and conformance suites depend on:
//
//	method echo   the result is the first parameter (nil when there is none)
//	method ping   the result is the string "pong", whatever the parameters
//	stream echo   every chunk comes back unchanged; the peer's close or
//	              error is answered with close
//
// Over MessagePack-RPC and HTTP (POST /rpc/echo) echo is the method; over
// Cocaine it is the stream. ping is the method everywhere. None of them
// allocates.
func RegisterBuiltins(reg *handlers.Registry) {
	reg.HandleRPCFunc("echo", Echo)
	reg.HandleRPCFunc("ping", Ping)
	reg.HandleStream("echo", EchoStream)
}

// Echo answers the first parameter of the call.
func Echo(w *handlers.Reply, c *handlers.Call) {
	n, rest, err := mpack.ReadArrayHeader(c.Params)
	if err != nil {
		w.SetError(handlers.CodeBadParams, "echo: the params are not an array")
		return
	}
	if n == 0 {
		return // nil
	}
	after, err := mpack.Skip(rest)
	if err != nil {
		w.SetError(handlers.CodeBadParams, "echo: malformed parameter")
		return
	}
	w.SetResult(rest[:len(rest)-len(after)])
}

// pong is "pong" as a msgpack fixstr.
var pong = []byte{0xa4, 'p', 'o', 'n', 'g'}

// Ping answers "pong".
func Ping(w *handlers.Reply, _ *handlers.Call) { w.SetResult(pong) }

// EchoStream is the stream echo: it sends back every chunk it receives.
var EchoStream handlers.StreamHandler = handlers.StreamFunc(openEcho)

func openEcho(handlers.Sender, []byte) handlers.Receiver { return echoReceiver{} }

type echoReceiver struct{}

func (echoReceiver) Chunk(tx handlers.Sender, data []byte)   { tx.Write(data) }
func (echoReceiver) Error(handlers.Sender, int, int, []byte) {}
func (echoReceiver) Close(handlers.Sender)                   {}
