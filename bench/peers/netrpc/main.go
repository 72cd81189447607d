// Command netrpc is the net/rpc peer of the MessagePack-RPC benchmark: Go's
// net/rpc server speaking the MessagePack-RPC spec through ugorji's
// [codec.MsgpackSpecRpc] server codec, with an echo as close to tokamak's
// built-in "echo" as net/rpc allows.
//
//	netrpc [-addr 127.0.0.1:9091]
//
// net/rpc dispatches on "Service.Method" names and only to exported methods,
// so a client cannot call plain "echo" here. It calls "Echo.Echo":
//
//	[0, id, "Echo.Echo", [x]] → [1, id, nil, x]
//
// the same answer as tokamak's echo. The codec hands net/rpc the single
// argument inside the params array (with params [x] the method gets x;
// extra parameters are decoded and dropped; with params [] it gets nil).
// x is decoded into Go values and encoded again, the way a net/rpc service
// treats its arguments; with the handle below a str stays a str and a bin
// stays a bin. (codec.Raw would pass the bytes through undecoded, but
// ugorji v1.3.2 records Raw values read from a stream incorrectly now and
// then: in a test, the first call on 15 of 200 connections came back with
// bytes of the method name instead of its parameter.)
//
// Each connection is served as net/rpc serves them: one goroutine reads
// requests in order ([rpc.Server.ServeCodec]), each call runs in its own
// goroutine, and responses are written one at a time under net/rpc's lock,
// each flushed on its own. The connection is wrapped in a bufio reader and
// writer (ugorji's advice for performance); the buffering must be on the
// connection and not on the handle, because the spec codec reads each
// request's first byte straight from the connection it was given, which
// would skip bytes that a handle-level read buffer had already taken.
//
// It prints "listening on <addr>" on stdout once the socket accepts
// connections, logs nothing per call, and exits on SIGTERM or SIGINT.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/rpc"
	"os"
	"os/signal"
	"syscall"

	"github.com/ugorji/go/codec"
)

// Echo is the service registered under the name "Echo".
type Echo struct{}

// Echo answers its parameter.
func (Echo) Echo(arg any, reply *any) error {
	*reply = arg
	return nil
}

// newHandle returns the msgpack configuration shared by every connection
// (a configured handle is safe for concurrent use).
func newHandle() *codec.MsgpackHandle {
	h := new(codec.MsgpackHandle)
	// The current spec: str and bin are distinct families, so a str
	// decodes into a string and a []byte encodes as bin. RawToString stays
	// false: it would turn bin into strings as well.
	h.WriteExt = true
	return h
}

// newServer returns a net/rpc server with the Echo service.
func newServer() *rpc.Server {
	srv := rpc.NewServer()
	if err := srv.RegisterName("Echo", Echo{}); err != nil {
		panic(err) // Echo's method set is fixed; a failure is a programming error
	}
	return srv
}

// bufConn gives the codec buffered reads and writes on a connection; the
// codec flushes after every message because bufConn has Flush.
type bufConn struct {
	io.Closer
	*bufio.Reader
	*bufio.Writer
}

// serve accepts connections until ln is closed and serves each on its own
// goroutine.
func serve(ln net.Listener, srv *rpc.Server, h codec.Handle) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // a transient accept failure, as net/http retries it
			}
			return err
		}
		bc := bufConn{c, bufio.NewReader(c), bufio.NewWriter(c)}
		go srv.ServeCodec(codec.MsgpackSpecRpc.ServerCodec(bc, h))
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9091", "listen address, host:port")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("netrpc: ")

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		ln.Close()
	}()
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := serve(ln, newServer(), newHandle()); err != nil {
		log.Fatal(err)
	}
}
