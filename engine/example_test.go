package engine_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	_ "github.com/tokamak-io/tokamak/codec/http1"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
)

func Example() {
	e := engine.New(engine.Config{}) // the zero Config works: one loop per GOMAXPROCS
	e.HandleFunc("GET", "/hello/{name}", func(w *handlers.Response, r *handlers.Request) {
		w.SetContentType("text/plain")
		w.WriteString("hello, ")
		w.Write(r.Param("name")) // a view: valid until the handler returns
	})
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	<-e.Ready()

	res, err := http.Get("http://" + addr.String() + "/hello/gopher")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.Status, res.Header.Get("Server"), string(body))

	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.Shutdown(sctx) // or stop(): Run then shuts down by itself
	stop()
	<-done
	// Output: 200 OK tokamak hello, gopher
}
