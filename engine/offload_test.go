package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
)

// A blocking handler runs off the loop: the loop keeps serving other
// connections meanwhile, and the responses of one connection still leave in
// request order.
func TestBlockingHandlerKeepsOrderAndFreesTheLoop(t *testing.T) {
	gate := make(chan struct{})
	_, addr := start(t, engine.Config{Loops: 1}, func(e *engine.Engine) {
		e.Handle("GET", "/slow", handlers.Blocking(handlers.HandlerFunc(func(w *handlers.Response, r *handlers.Request) {
			<-gate // would hold the only loop if it ran there
			fmt.Fprintf(w, "slow %s %s", r.Query, r.Header("X-Tag"))
		})))
	})
	c := dial(t, addr)
	io.WriteString(c, "GET /slow?a HTTP/1.1\r\nHost: x\r\nX-Tag: one\r\n\r\n"+
		"GET /echo?b HTTP/1.1\r\nHost: x\r\n\r\n"+
		"GET /slow?c HTTP/1.1\r\nHost: x\r\nX-Tag: two\r\n\r\n"+
		"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

	// Another connection on the same loop is served while /slow waits.
	other := dial(t, addr)
	io.WriteString(other, "GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b, err := readAll(t, other, 2*time.Second)
	if err != nil || !bytes.Contains(b, []byte("Hello, World!")) {
		t.Fatalf("other connection: %q, %v; want its answer while the blocking handler waits", b, err)
	}

	close(gate)
	b, err = readAll(t, c, 5*time.Second)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	rs := readResponses(t, b, "GET")
	if len(rs) != 4 {
		t.Fatalf("%d responses, want 4: %q", len(rs), b)
	}
	want := []string{"slow a one", `"target":"/echo?b"`, "slow c two", "Hello, World!"}
	for i, res := range rs {
		if got := body(res); !strings.Contains(got, want[i]) {
			t.Errorf("response %d: %q, want it to contain %q", i, got, want[i])
		}
	}
}

// A full pool answers 503 at once and keeps the connection; the pool takes
// work again once a worker is free.
func TestBlockingHandlerBusy(t *testing.T) {
	gate := make(chan struct{})
	inside := make(chan struct{}, 1)
	_, addr := start(t, engine.Config{Loops: 1, OffloadWorkers: 1, OffloadQueue: 1}, func(e *engine.Engine) {
		e.Handle("GET", "/slow", handlers.Blocking(handlers.HandlerFunc(func(w *handlers.Response, r *handlers.Request) {
			inside <- struct{}{}
			<-gate
			w.WriteString("done")
		})))
	})
	first := dial(t, addr)
	io.WriteString(first, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-inside // the worker is taken
	second := dial(t, addr)
	io.WriteString(second, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n") // queued
	time.Sleep(50 * time.Millisecond)

	third := dial(t, addr)
	io.WriteString(third, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b, err := readAll(t, third, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rs := readResponses(t, b, "GET")
	if len(rs) != 2 || rs[0].StatusCode != 503 || rs[0].Header.Get("Retry-After") != "1" || rs[0].Close {
		t.Fatalf("got %q, want a keep-alive 503 with Retry-After, then the next answer", b)
	}
	if got := body(rs[1]); got != "Hello, World!" {
		t.Errorf("after the 503: %q", got)
	}

	close(gate)
	<-inside
	for _, c := range []any{first, second} {
		conn := c.(interface {
			io.Reader
			SetReadDeadline(time.Time) error
		})
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil || !bytes.Contains(buf[:n], []byte("200 OK")) || !bytes.HasSuffix(buf[:n], []byte("done")) {
			t.Errorf("queued request: %q, %v", buf[:n], err)
		}
	}
}

// A blocking handler that panics costs its connection a 500 and nothing
// else.
func TestBlockingHandlerPanic(t *testing.T) {
	e, addr := start(t, engine.Config{Loops: 1}, func(e *engine.Engine) {
		e.Handle("GET", "/boom", handlers.Blocking(handlers.HandlerFunc(func(*handlers.Response, *handlers.Request) {
			panic("boom")
		})))
	})
	c := dial(t, addr)
	io.WriteString(c, "GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
	b, err := readAll(t, c, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rs := readResponses(t, b, "GET")
	if len(rs) != 1 || rs[0].StatusCode != 500 || !rs[0].Close {
		t.Fatalf("got %q, want one 500 that closes", b)
	}
	if p := e.Stats().Total().Panics; p != 1 {
		t.Errorf("panics counted: %d, want 1", p)
	}
	c2 := dial(t, addr)
	io.WriteString(c2, "GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if b, _ := readAll(t, c2, 2*time.Second); !bytes.Contains(b, []byte("Hello, World!")) {
		t.Errorf("next connection: %q", b)
	}
}

// While a request waits for the pool, a pipelined upload behind it may be
// as large as the limits allow a request to be: input beyond the 1 MiB of
// MaxInboundPaused is not cut off when one whole request can take more.
func TestWaitingConnectionHoldsOneWholeRequest(t *testing.T) {
	gate := make(chan struct{})
	_, addr := start(t, engine.Config{Loops: 1}, func(e *engine.Engine) {
		e.Handle("GET", "/slow", handlers.Blocking(handlers.HandlerFunc(func(w *handlers.Response, r *handlers.Request) {
			<-gate
			w.WriteString("slow")
		})))
		e.HandleFunc("POST", "/size", func(w *handlers.Response, r *handlers.Request) {
			w.AppendInt(int64(len(r.Body)))
		})
	})
	c := dial(t, addr)
	const size = 3 << 20
	req := fmt.Sprintf("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nPOST /size HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n", size)
	written := make(chan error, 1)
	go func() {
		_, err := c.Write(append([]byte(req), make([]byte, size)...))
		written <- err
	}()
	time.Sleep(300 * time.Millisecond) // the upload reaches the server while /slow waits
	close(gate)
	if err := <-written; err != nil {
		t.Fatalf("write: %v", err)
	}
	b, err := readAll(t, c, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rs := readResponses(t, b, "GET")
	if len(rs) != 2 || body(rs[0]) != "slow" || body(rs[1]) != fmt.Sprint(size) {
		t.Fatalf("got %q, want the slow answer then %d", b, size)
	}
}

// A drain waits for a request on the pool, and its response is the last.
func TestDrainWaitsForBlockingHandler(t *testing.T) {
	var started atomic.Bool
	inside := make(chan struct{})
	gate := make(chan struct{})
	e, addr := start(t, engine.Config{Loops: 1}, func(e *engine.Engine) {
		e.Handle("GET", "/slow", handlers.Blocking(handlers.HandlerFunc(func(w *handlers.Response, r *handlers.Request) {
			if !started.Swap(true) {
				close(inside)
			}
			<-gate
			w.WriteString("slow")
		})))
	})
	c := dial(t, addr)
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-inside
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- e.Shutdown(ctx)
	}()
	time.Sleep(400 * time.Millisecond) // several drain sweeps pass
	close(gate)
	b, err := readAll(t, c, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	rs := readResponses(t, b, "GET")
	if len(rs) != 1 || body(rs[0]) != "slow" {
		t.Fatalf("got %q, want the blocking handler's answer", b)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// A blocking handler that does not return keeps neither Shutdown nor Run
// from returning once the shutdown deadline has passed.
func TestRunReturnsDespiteAStuckHandler(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	inside := make(chan struct{})
	e := engine.New(engine.Config{Loops: 1, Logger: enginetest.Logger(t)})
	e.Handle("GET", "/stuck", handlers.Blocking(handlers.HandlerFunc(func(w *handlers.Response, r *handlers.Request) {
		close(inside)
		<-gate
	})))
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	<-e.Ready()
	c := dial(t, addr.String())
	io.WriteString(c, "GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
	<-inside
	sctx, scancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer scancel()
	if err := e.Shutdown(sctx); err == nil {
		t.Error("Shutdown: no error, want the deadline's")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return while a blocking handler was stuck")
	}
}
