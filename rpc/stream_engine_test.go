package rpc_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/codec/cocaine"
	_ "github.com/tokamak-io/tokamak/codec/http1"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
	"github.com/tokamak-io/tokamak/rpc"
)

// Answers that come after their handler returned, from other goroutines:
// HTTP streams and deferred answers, the Cocaine HTTP bridge with a kept
// stream, and a kept Cocaine stream — through the real engine.

// later streams the body "part 0\n" … "part n-1\n" from a goroutine, each
// after a pause, so that nothing of it exists when the handler returns.
func later(w *handlers.Response, r *handlers.Request) {
	n, _ := strconv.Atoi(string(r.Query))
	w.SetContentType("text/plain")
	w.WriteString("head\n")
	bw := w.Stream()
	go func() {
		for i := range n {
			time.Sleep(5 * time.Millisecond)
			if _, err := io.WriteString(bw, "part "+strconv.Itoa(i)+"\n"); err != nil {
				return
			}
		}
		bw.Close()
	}()
}

func wantLater(n int) string {
	s := "head\n"
	for i := range n {
		s += "part " + strconv.Itoa(i) + "\n"
	}
	return s
}

// kept is a stream handler that answers the bridged request later: it
// keeps its direction and sends the head and two body chunks from a
// goroutine, or, for the event "broken", an error instead of the head.
func keptHandler(event string) handlers.StreamHandler {
	return handlers.StreamFunc(func(tx handlers.Sender, _ []byte) handlers.Receiver {
		sw := tx.Keep()
		go func() {
			time.Sleep(10 * time.Millisecond)
			if event == "broken" {
				sw.Error(1, 2, "no backend")
				return
			}
			head := mpack.AppendArrayHeader(nil, 2)
			head = mpack.AppendInt(head, 201)
			head = mpack.AppendArrayHeader(head, 1)
			head = mpack.AppendArrayHeader(head, 2)
			head = mpack.AppendStr(head, "X-Kept")
			head = mpack.AppendStr(head, "yes")
			sw.Write(head)
			sw.Write([]byte("one,"))
			time.Sleep(10 * time.Millisecond)
			sw.Write([]byte("two"))
			sw.Close()
			if sw.Write([]byte("late")) != handlers.ErrStreamClosed {
				panic("Write after Close did not fail")
			}
		}()
		return nil // done with the peer's direction; ours is kept
	})
}

func startStreams(t *testing.T) (httpAddr, cocaineAddr string, gone chan error) {
	e := engine.New(engine.Config{Loops: 1, Logger: enginetest.Logger(t)})
	reg := e.Handlers()
	reg.HandleFunc("GET", "/later", later)
	reg.HandleFunc("GET", "/nocontent", func(w *handlers.Response, r *handlers.Request) {
		w.SetStatus(204)
		bw := w.Stream()
		go func() {
			bw.Write([]byte("discarded: 204 has no body"))
			bw.Close()
		}()
	})
	reg.HandleFunc("GET", "/plaintext", handlers.Plaintext)
	reg.HandleFunc("GET", "/deferred", func(w *handlers.Response, r *handlers.Request) {
		d := w.Defer()
		go func() {
			time.Sleep(20 * time.Millisecond)
			a := new(handlers.Response)
			a.SetStatus(202)
			a.WriteString("deferred")
			d.Respond(a)
		}()
	})
	gone = make(chan error, 1)
	reg.HandleFunc("GET", "/forever", func(w *handlers.Response, r *handlers.Request) {
		bw := w.Stream()
		go func() {
			for {
				if _, err := bw.Write(bytes.Repeat([]byte("x"), 4096)); err != nil {
					<-bw.Done()
					gone <- err
					return
				}
			}
		}()
	})
	reg.HandleFunc("GET", "/abandoned", func(w *handlers.Response, r *handlers.Request) {
		d := w.Defer()
		stream := string(r.Query) == "stream"
		go func() {
			<-release
			a := new(handlers.Response)
			a.WriteString("too late")
			if stream {
				_, err := d.Stream(a)
				abandoned <- err
				return
			}
			abandoned <- d.Respond(a)
		}()
	})
	reg.Handle("GET", "/bridge", rpc.StreamHTTP("kept", keptHandler("kept")))
	reg.Handle("GET", "/broken", rpc.StreamHTTP("broken", keptHandler("broken")))
	reg.HandleStream("ticks", handlers.StreamFunc(func(tx handlers.Sender, _ []byte) handlers.Receiver {
		tx.Write([]byte("now")) // during the call, before the kept ones
		sw := tx.Keep()
		go func() {
			for i := range 3 {
				time.Sleep(5 * time.Millisecond)
				sw.Write([]byte("tick " + strconv.Itoa(i)))
			}
			sw.Close()
		}()
		return nil
	}))
	ha, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := e.Listen("cocaine://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	enginetest.Run(t, e)
	return ha.String(), ca.String(), gone
}

// release lets /abandoned answer, which reports the answer's error.
var release, abandoned = make(chan struct{}), make(chan error, 1)

func TestAnswersAfterTheHandlerReturned(t *testing.T) {
	httpAddr, cocaineAddr, gone := startStreams(t)
	base := "http://" + httpAddr

	t.Run("stream", func(t *testing.T) {
		res, err := http.Get(base + "/later?20")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || string(b) != wantLater(20) || res.TransferEncoding[0] != "chunked" ||
			res.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("%v %q %v %v", err, b, res.TransferEncoding, res.Header)
		}
	})

	t.Run("pipelined behind a stream and a deferred answer", func(t *testing.T) {
		c, err := net.Dial("tcp", httpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /later?3 HTTP/1.1\r\nHost: x\r\n\r\nGET /deferred HTTP/1.1\r\nHost: x\r\n\r\n"+
			"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		for _, want := range []struct {
			code int
			body string
		}{{200, wantLater(3)}, {202, "deferred"}, {200, "Hello, World!"}} {
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(res.Body)
			if err != nil || res.StatusCode != want.code || string(b) != want.body {
				t.Fatalf("got %d %q (%v), want %d %q", res.StatusCode, b, err, want.code, want.body)
			}
		}
	})

	t.Run("HTTP/1.0 and HEAD", func(t *testing.T) {
		for _, tc := range []struct{ req, want string }{
			// No chunked encoding for HTTP/1.0: the body runs to the close.
			{"GET /later?2 HTTP/1.0\r\n\r\n", "\r\nConnection: close\r\n\r\n" + wantLater(2)},
			// HEAD: the head GET would get, no body.
			{"HEAD /later?2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
			// HEAD from HTTP/1.0: no Transfer-Encoding (RFC 9112 §6.1).
			{"HEAD /later?2 HTTP/1.0\r\n\r\n", "Content-Type: text/plain\r\nConnection: close\r\n\r\n"},
			// 204: no framing field and no body; what the handler writes is dropped.
			{"GET /nocontent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "\r\nConnection: close\r\n\r\n"},
		} {
			c, err := net.Dial("tcp", httpAddr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, tc.req)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b, err := io.ReadAll(c)
			c.Close()
			if err != nil || !strings.HasSuffix(string(b), tc.want) || strings.Contains(string(b), "Content-Length") ||
				strings.HasPrefix(tc.req, "GET /nocontent") && strings.Contains(string(b), "Transfer-Encoding") {
				t.Errorf("%q: got %q (%v), want it to end %q", tc.req, b, err, tc.want)
			}
		}
	})

	t.Run("writer learns that the client left", func(t *testing.T) {
		c, err := net.Dial("tcp", httpAddr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
		time.Sleep(50 * time.Millisecond) // the writer fills the window and waits
		c.Close()
		select {
		case err := <-gone:
			if !errors.Is(err, handlers.ErrStreamClosed) {
				t.Fatalf("Write after the client left: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the writer is still blocked after the client left")
		}
	})

	// The client leaves before the answer: giving it later fails cleanly
	// (it crashed the process once: the session had dropped its Conn).
	for _, q := range []string{"respond", "stream"} {
		t.Run("answer after the client left: "+q, func(t *testing.T) {
			c, err := net.Dial("tcp", httpAddr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "GET /abandoned?"+q+" HTTP/1.1\r\nHost: x\r\n\r\n")
			time.Sleep(30 * time.Millisecond)
			c.Close()
			time.Sleep(30 * time.Millisecond)
			release <- struct{}{}
			if err := <-abandoned; !errors.Is(err, handlers.ErrStreamClosed) {
				t.Fatalf("answer after the client left: %v", err)
			}
		})
	}

	t.Run("bridge with a kept stream", func(t *testing.T) {
		res, err := http.Get(base + "/bridge")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 201 || string(b) != "one,two" || res.Header.Get("X-Kept") != "yes" ||
			len(res.TransferEncoding) != 1 {
			t.Fatalf("%d %q %v %v %v", res.StatusCode, b, err, res.Header, res.TransferEncoding)
		}
		res, err = http.Get(base + "/broken")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 502 || !strings.Contains(string(b), "no backend") {
			t.Fatalf("error before the head: %d %q", res.StatusCode, b)
		}
	})

	t.Run("kept cocaine stream", func(t *testing.T) {
		c, err := net.Dial("tcp", cocaineAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		v := cocaine.V12
		c.Write(v.AppendChoke(v.AppendInvoke(nil, 2, "ticks"), 2))
		want := v.AppendChunk(nil, 2, []byte("now"))
		for i := range 3 {
			want = v.AppendChunk(want, 2, []byte("tick "+strconv.Itoa(i)))
		}
		want = v.AppendChoke(want, 2)
		got := make([]byte, len(want))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got % x (%v)\nwant % x", got, err, want)
		}
		// The channel has ended: a heartbeat is answered, nothing else came.
		c.Write(v.AppendHeartbeat(nil))
		hb := v.AppendHeartbeat(nil)
		got = make([]byte, len(hb))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, hb) {
			t.Fatalf("after the stream: % x (%v)", got, err)
		}
	})
}

// A drain answers the requests pipelined behind a deferred one, as it does
// without Defer, and the last says Connection: close.
func TestDeferredAnswerWhileDraining(t *testing.T) {
	e := engine.New(engine.Config{Loops: 1, Logger: enginetest.Logger(t)})
	e.HandleFunc("GET", "/plaintext", handlers.Plaintext)
	e.HandleFunc("GET", "/deferred", func(w *handlers.Response, r *handlers.Request) {
		d := w.Defer()
		go func() {
			time.Sleep(100 * time.Millisecond) // the drain starts meanwhile
			a := new(handlers.Response)
			a.WriteString("deferred")
			d.Respond(a)
		}()
	})
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	<-e.Ready()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /deferred HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(30 * time.Millisecond)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	}()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for i, want := range []string{"deferred", "Hello, World!"} {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		b, err := io.ReadAll(res.Body)
		if err != nil || string(b) != want {
			t.Fatalf("response %d: %q, %v; want %q", i, b, err, want)
		}
		if last := i == 1; res.Close != last {
			t.Errorf("response %d: Connection: close is %v", i, res.Close)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
