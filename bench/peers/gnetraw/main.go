// Command gnetraw is the raw gnet peer of the benchmark harness: the
// ceiling for any engine built on gnet. It finds the end of each request
// head, looks at the path, and appends a prebuilt response — no parsing of
// header fields, no routing table, no Date — writing the answers of one
// read with one write, pipelined requests included.
//
//	gnetraw [-addr 127.0.0.1:8083] [-loops N]
//
// GET /plaintext and GET /json get tokamak's bodies and content types;
// any other request line gets a prebuilt 404. Requests must have no body
// (it is a GET responder). It prints "listening on <addr>" on stdout once
// it serves, and stops on SIGTERM or SIGINT.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

func response(status, ctype, body string) []byte {
	return []byte("HTTP/1.1 " + status + "\r\nServer: gnet\r\nContent-Type: " + ctype +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

var (
	plaintextRes = response("200 OK", "text/plain; charset=utf-8", "Hello, World!")
	jsonRes      = response("200 OK", "application/json", `{"message":"Hello, World!"}`)
	notFoundRes  = response("404 Not Found", "text/plain; charset=utf-8", "Not Found\n")

	headEnd = []byte("\r\n\r\n")
)

// answer returns the prebuilt response for one request head.
func answer(head []byte) []byte {
	switch {
	case bytes.HasPrefix(head, []byte("GET /plaintext ")):
		return plaintextRes
	case bytes.HasPrefix(head, []byte("GET /json ")):
		return jsonRes
	}
	return notFoundRes
}

// serve appends the answers to every complete head at the start of in and
// returns the bytes consumed.
func serve(out, in []byte) ([]byte, int) {
	off := 0
	for {
		i := bytes.Index(in[off:], headEnd)
		if i < 0 {
			return out, off
		}
		out = append(out, answer(in[off:off+i])...)
		off += i + len(headEnd)
	}
}

type server struct {
	gnet.BuiltinEventEngine
	addr  string
	ready chan gnet.Engine
}

func (s *server) OnBoot(eng gnet.Engine) gnet.Action {
	s.ready <- eng
	return gnet.None
}

// outBufs holds the output buffers of the loops. One per connection would
// cost idle memory; a local array escapes to the heap (c.Write takes a
// slice), which made every read allocate and zero 16 KiB — the ceiling
// must not pay that. gnet copies what the socket does not take, so a
// buffer is free again once Write returns.
var outBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Peek(-1)
	bp := outBufs.Get().(*[]byte)
	out, n := serve((*bp)[:0], in)
	if n > 0 {
		_, _ = c.Discard(n) // n > 0: Discard(0) would drop everything
	}
	if len(out) > 0 {
		_, _ = c.Write(out)
	}
	*bp = out[:0]
	outBufs.Put(bp)
	return gnet.None
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8083", "listen address, host:port")
	loops := flag.Int("loops", runtime.GOMAXPROCS(0), "event loops")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gnetraw: ")

	s := &server{addr: *addr, ready: make(chan gnet.Engine, 1)}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(s, "tcp://"+*addr, gnet.WithNumEventLoop(*loops), gnet.WithReusePort(true),
			gnet.WithLogLevel(logging.ErrorLevel))
	}()
	var eng gnet.Engine
	select {
	case eng = <-s.ready:
		fmt.Printf("listening on %s\n", *addr)
	case err := <-errc:
		log.Fatal(err)
	}
	select {
	case err := <-errc:
		log.Fatal(err)
	case <-ctx.Done():
	}
	if err := eng.Stop(context.Background()); err != nil {
		log.Fatal(err)
	}
}
