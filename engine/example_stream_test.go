package engine_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	_ "github.com/tokamak-io/tokamak/codec/http1"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
)

// A handler that answers after it returned: the head goes out at once,
// the body is written by another goroutine, chunk by chunk, and the loop
// serves other connections meanwhile.
func Example_stream() {
	e := engine.New(engine.Config{Loops: 1})
	e.HandleFunc("GET", "/count", func(w *handlers.Response, r *handlers.Request) {
		w.SetContentType("text/plain")
		bw := w.Stream() // sends the head; the request's views end when the handler returns
		go func() {
			for i := range 3 {
				time.Sleep(10 * time.Millisecond) // waiting for something else
				if _, err := io.WriteString(bw, strconv.Itoa(i)+" "); err != nil {
					return // the client left
				}
			}
			bw.Close()
		}()
	})
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	<-e.Ready()

	res, err := http.Get("http://" + addr.String() + "/count")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.TransferEncoding, string(body))

	stop()
	<-done
	// Output: [chunked] 0 1 2
}
