// Command nethttp is the net/http peer of the benchmark harness: a plain
// net/http server answering GET /plaintext and GET /json with the same bytes
// and content types as tokamak's built-ins (HEAD too, as net/http does for
// GET patterns), and 404 for everything else.
//
//	nethttp [-addr :8081]
//
// It prints "listening on <addr>" on stdout once the socket accepts
// connections, logs nothing per request, and on SIGTERM or SIGINT stops
// accepting and waits for in-flight requests (http.Server.Shutdown) before
// it exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

var (
	helloBody = []byte("Hello, World!")
	jsonBody  = []byte(`{"message":"Hello, World!"}`)

	// Shared, never modified: assigning them into the header map avoids an
	// allocation per request.
	plainType = []string{"text/plain; charset=utf-8"}
	jsonType  = []string{"application/json"}
)

func plaintext(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Content-Type"] = plainType
	w.Write(helloBody)
}

func jsonHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Content-Type"] = jsonType
	w.Write(jsonBody)
}

func main() {
	addr := flag.String("addr", ":8081", "listen address, host:port")
	grace := flag.Duration("grace", 10*time.Second, "how long to wait for in-flight requests on SIGTERM/SIGINT")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("nethttp: ")
	if err := run(*addr, *grace); err != nil {
		log.Fatal(err)
	}
}

func run(addr string, grace time.Duration) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plaintext", plaintext)
	mux.HandleFunc("GET /json", jsonHandler)
	srv := &http.Server{
		Handler: mux,
		// The same limits as tokamak's defaults, so that neither side keeps
		// idle sockets the other would have closed.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.Default(),
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
		return err // Serve returns only on failure before Shutdown
	case <-ctx.Done():
	}
	stop() // a second signal kills the process the default way
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
