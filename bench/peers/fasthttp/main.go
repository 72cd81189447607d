// Command fasthttp is the fasthttp peer of the benchmark harness: a
// valyala/fasthttp server answering GET (and HEAD) /plaintext and /json with
// the same bodies and content types as tokamak's built-ins, and 404 for
// everything else.
//
//	fasthttp [-addr :8082]
//
// It prints "listening on <addr>" on stdout once the socket accepts
// connections, logs nothing per request, and on SIGTERM or SIGINT shuts
// down gracefully (fasthttp.Server.ShutdownWithContext) before it exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

var (
	helloBody = []byte("Hello, World!")
	jsonBody  = []byte(`{"message":"Hello, World!"}`)
)

func handler(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Error("Method Not Allowed\n", fasthttp.StatusMethodNotAllowed)
		return
	}
	switch string(ctx.Path()) {
	case "/plaintext":
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBody(helloBody)
	case "/json":
		ctx.SetContentType("application/json")
		ctx.SetBody(jsonBody)
	default:
		ctx.Error("Not Found\n", fasthttp.StatusNotFound)
	}
}

func main() {
	addr := flag.String("addr", ":8082", "listen address, host:port")
	grace := flag.Duration("grace", 10*time.Second, "how long to wait for in-flight requests on SIGTERM/SIGINT")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("fasthttp: ")
	if err := run(*addr, *grace); err != nil {
		log.Fatal(err)
	}
}

func run(addr string, grace time.Duration) error {
	srv := &fasthttp.Server{
		Handler: handler,
		Name:    "fasthttp",
		// The same limits as tokamak's defaults.
		ReadTimeout:        10 * time.Second,
		IdleTimeout:        60 * time.Second,
		MaxRequestBodySize: 4 << 20,
		NoDefaultDate:      false,
		Logger:             log.Default(),
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("listening on %s\n", ln.Addr())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = srv.ShutdownWithContext(sctx)
	if serr := <-served; serr != nil && err == nil {
		err = serr
	}
	return err
}
