package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/codec"
	_ "github.com/tokamak-io/tokamak/codec/http1"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
)

// start runs an engine with the built-ins on 127.0.0.1:0 and stops it when
// the test ends.
func start(t *testing.T, cfg engine.Config, setup func(e *engine.Engine)) (*engine.Engine, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = enginetest.Logger(t)
	}
	e := engine.New(cfg)
	handlers.RegisterBuiltins(e.Handlers(), e.Stats)
	if setup != nil {
		setup(e)
	}
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	enginetest.Run(t, e)
	return e, addr.String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAll reads until EOF or the deadline.
func readAll(t *testing.T, c net.Conn, d time.Duration) ([]byte, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	return io.ReadAll(c)
}

// readResponses parses every response in b.
func readResponses(t *testing.T, b []byte, method string) []*http.Response {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(b))
	var out []*http.Response
	for {
		if _, err := br.Peek(1); err != nil {
			return out
		}
		res, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("response %d: %v (after %q)", len(out), err, b)
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", len(out), err)
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
		out = append(out, res)
	}
}

// body reads and closes the body, which lets the client reuse or close the
// connection.
func body(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return string(b)
}

func TestNetHTTPClient(t *testing.T) {
	_, addr := start(t, engine.Config{Loops: 2}, nil)
	base := "http://" + addr
	cl := &http.Client{Timeout: 5 * time.Second}

	res, err := cl.Get(base + "/plaintext")
	if err != nil {
		t.Fatal(err)
	}
	if got := body(res); res.StatusCode != 200 || got != "Hello, World!" {
		t.Fatalf("GET /plaintext: %d %q", res.StatusCode, got)
	}
	for _, h := range []string{"Date", "Content-Length", "Content-Type"} {
		if res.Header.Get(h) == "" {
			t.Errorf("GET /plaintext: no %s header", h)
		}
	}

	res, err = cl.Post(base+"/echo", "text/plain", strings.NewReader("ping"))
	if err != nil {
		t.Fatal(err)
	}
	if got := body(res); !strings.Contains(got, `"body":"cGluZw=="`) || !strings.Contains(got, `"method":"POST"`) {
		t.Fatalf("POST /echo: %q", got)
	}

	// A body of unknown length goes out chunked.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("chunk one, "))
		pw.Write([]byte("chunk two"))
		pw.Close()
	}()
	res, err = cl.Post(base+"/echo", "text/plain", pr)
	if err != nil {
		t.Fatal(err)
	}
	if got := body(res); !strings.Contains(got, `"body":"Y2h1bmsgb25lLCBjaHVuayB0d28="`) {
		t.Fatalf("chunked POST /echo: %q", got)
	}

	// Expect: 100-continue: the client waits for 100 before the body.
	tr := &http.Transport{ExpectContinueTimeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("PUT", base+"/echo", strings.NewReader("after continue"))
	req.Header.Set("Expect", "100-continue")
	start := time.Now()
	res, err = (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := body(res); !strings.Contains(got, `"method":"PUT"`) || time.Since(start) > 2*time.Second {
		t.Fatalf("Expect: 100-continue: %q after %v", got, time.Since(start))
	}

	res, err = cl.Get(base + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	if body(res); res.StatusCode != 404 {
		t.Fatalf("GET /nope: %d, want 404", res.StatusCode)
	}
	res, err = cl.Post(base+"/plaintext", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	if body(res); res.StatusCode != 405 || res.Header.Get("Allow") == "" {
		t.Fatalf("POST /plaintext: %d Allow=%q, want 405 with Allow", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestPipelinedInOrderInOneRead(t *testing.T) {
	_, addr := start(t, engine.Config{Loops: 1}, nil)
	c := dial(t, addr)
	var req bytes.Buffer
	for i := range 16 {
		fmt.Fprintf(&req, "GET /echo?i=%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
	}
	if _, err := c.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	// All 16 answers leave in one write: the first read gets them all.
	buf := make([]byte, 1<<20)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	rs := readResponses(t, buf[:n], "GET")
	if len(rs) != 16 {
		t.Fatalf("first read held %d responses, want 16", len(rs))
	}
	for i, res := range rs {
		if want := fmt.Sprintf(`"target":"/echo?i=%d"`, i); !strings.Contains(body(res), want) {
			t.Errorf("response %d is not for request %d", i, i)
		}
	}
}

func TestNothingAfterConnectionClose(t *testing.T) {
	var served atomic.Int32
	_, addr := start(t, engine.Config{Loops: 1}, func(e *engine.Engine) {
		e.HandleFunc("GET", "/count", func(w *handlers.Response, r *handlers.Request) {
			served.Add(1)
			w.WriteString("counted")
		})
	})
	c := dial(t, addr)
	io.WriteString(c, "GET /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"+
		"GET /count HTTP/1.1\r\nHost: x\r\n\r\nGET /count HTTP/1.1\r\nHost: x\r\n\r\n")
	b, err := readAll(t, c, 5*time.Second)
	if err != nil {
		t.Fatalf("read: %v (the server should close)", err)
	}
	rs := readResponses(t, b, "GET")
	if len(rs) != 1 || served.Load() != 1 {
		t.Fatalf("%d responses, %d requests served; want 1 and 1", len(rs), served.Load())
	}
	if !rs[0].Close { // ReadResponse turns "Connection: close" into Close
		t.Errorf("response does not close the connection")
	}
}

func TestLimitErrorsArriveWhole(t *testing.T) {
	_, addr := start(t, engine.Config{Loops: 1}, nil)
	tests := []struct {
		name   string
		req    string
		extra  int // bytes of junk body sent after the head
		status int
	}{
		{"413 body too large", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n", 2 << 20, 413},
		{"414 request line too long", "GET /" + strings.Repeat("a", 9<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", 0, 414},
		{"431 header section too large", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Fill: "+strings.Repeat("b", 1000)+"\r\n", 70) + "\r\n", 0, 431},
		{"431 too many fields", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 120) + "\r\n", 0, 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			go func() {
				io.WriteString(c, tt.req)
				if tt.extra > 0 {
					c.Write(make([]byte, tt.extra)) // fails once the server closes: fine
				}
			}()
			b, err := readAll(t, c, 5*time.Second)
			if err != nil && len(b) == 0 {
				t.Fatalf("read: %v", err)
			}
			rs := readResponses(t, b, "GET")
			if len(rs) != 1 {
				t.Fatalf("%d responses, want 1: %q", len(rs), b)
			}
			res := rs[0]
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if !res.Close {
				t.Errorf("response does not carry Connection: close")
			}
			if cl, _ := strconv.Atoi(res.Header.Get("Content-Length")); cl == 0 || cl != len(body(res)) {
				t.Errorf("Content-Length %q, body %d bytes", res.Header.Get("Content-Length"), cl)
			}
		})
	}
}

func TestSlowlorisClosedWhileOthersServed(t *testing.T) {
	const headerTimeout = time.Second
	_, addr := start(t, engine.Config{Loops: 1, HeaderTimeout: headerTimeout}, nil)

	const slow = 20
	var wg sync.WaitGroup
	errs := make(chan error, slow)
	for i := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			head := fmt.Sprintf("GET /plaintext HTTP/1.1\r\nHost: x\r\nX-Slow-%d: ", i)
			t0 := time.Now()
			// One byte every 100 ms, never finishing the head.
			go func() {
				for j := 0; ; j++ {
					if _, err := c.Write([]byte{head[j%len(head)]}); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
			c.SetReadDeadline(time.Now().Add(headerTimeout + 3*time.Second))
			b, _ := io.ReadAll(c)
			took := time.Since(t0)
			if took > headerTimeout+time.Second {
				errs <- fmt.Errorf("slow connection closed after %v, want ≤ %v", took, headerTimeout+time.Second)
			}
			if !bytes.HasPrefix(b, []byte("HTTP/1.1 408 ")) {
				errs <- fmt.Errorf("slow connection got %q, want a 408", b)
			}
		}()
	}
	// Meanwhile a well-behaved client keeps its latency.
	cl := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(headerTimeout + 500*time.Millisecond)
	var worst time.Duration
	for n := 0; time.Now().Before(deadline); n++ {
		t0 := time.Now()
		res, err := cl.Get("http://" + addr + "/plaintext")
		if err != nil {
			t.Fatalf("good client, request %d: %v", n, err)
		}
		res.Body.Close()
		worst = max(worst, time.Since(t0))
		time.Sleep(20 * time.Millisecond)
	}
	if worst > 200*time.Millisecond {
		t.Errorf("good client's worst latency %v while slow clients were connected", worst)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPipelineFloodWithoutReadingIsCutOff(t *testing.T) {
	e, addr := start(t, engine.Config{Loops: 1}, nil)
	c := dial(t, addr)
	chunk := bytes.Repeat([]byte("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"), 64<<10/37)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := int64(ms.HeapInuse)
	peak := heapPeak()
	var sent int
	var werr error
	c.SetWriteDeadline(time.Now().Add(20 * time.Second))
	for sent < 50<<20 {
		n, err := c.Write(chunk)
		sent += n
		if err != nil {
			werr = err
			break
		}
	}
	growth := peak() - heapBefore
	if werr == nil {
		t.Fatalf("the server took all %d MB from a client that never reads", sent>>20)
	}
	var ne net.Error
	if errors.As(werr, &ne) && ne.Timeout() {
		t.Fatalf("write timed out after %d MB: the server neither read nor closed", sent>>20)
	}
	t.Logf("cut off after %.1f MB sent (%v); heap growth %.1f MB", float64(sent)/(1<<20), werr, float64(growth)/(1<<20))
	if growth > 64<<20 {
		t.Errorf("heap grew by %d MB, want bounded (< 64 MB)", growth>>20)
	}
	if st := e.Stats(); st.Loops[0].Errors == 0 {
		t.Errorf("stats errors = 0, want the cut-off counted")
	}
	// The engine still serves others.
	res, err := http.Get("http://" + addr + "/plaintext")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func TestPanicHarmsNoOtherConnection(t *testing.T) {
	e, addr := start(t, engine.Config{Loops: 1}, func(e *engine.Engine) {
		e.HandleFunc("GET", "/panic", func(w *handlers.Response, r *handlers.Request) {
			w.WriteString("partial")
			panic("handler bug")
		})
	})
	// A bystander with a keep-alive connection open across the panic.
	by := dial(t, addr)
	bybr := bufio.NewReader(by)
	get := func() {
		t.Helper()
		io.WriteString(by, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
		by.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bybr, nil)
		if err != nil {
			t.Fatalf("bystander: %v", err)
		}
		if got := body(res); got != "Hello, World!" {
			t.Fatalf("bystander got %q", got)
		}
	}
	get()
	for range 10 {
		c := dial(t, addr)
		io.WriteString(c, "GET /panic HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
		b, err := readAll(t, c, 5*time.Second)
		if err != nil {
			t.Fatalf("panicking connection: %v", err)
		}
		rs := readResponses(t, b, "GET")
		if len(rs) != 1 || rs[0].StatusCode != 500 || strings.Contains(body(rs[0]), "partial") {
			t.Fatalf("panicking connection got %q, want one clean 500 then close", b)
		}
	}
	get()
	if p := e.Stats().Loops[0].Panics; p != 10 {
		t.Errorf("stats panics = %d, want 10", p)
	}
}

func TestShutdownUnderLoadLosesNoResponse(t *testing.T) {
	var handled atomic.Int64
	e := engine.New(engine.Config{Loops: 2, Logger: enginetest.Logger(t)})
	e.HandleFunc("GET", "/work", func(w *handlers.Response, r *handlers.Request) {
		handled.Add(1)
		w.WriteString("done")
	})
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	<-e.Ready()

	// Raw keep-alive clients, two requests in flight each, so that requests
	// sit in the server's buffers when the drain starts.
	var received, partial, unanswered atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr.String())
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(15 * time.Second))
			br := bufio.NewReader(c)
			const req = "GET /work HTTP/1.1\r\nHost: x\r\n\r\n"
			if _, err := io.WriteString(c, req+req); err != nil {
				return
			}
			for {
				if _, err := br.Peek(1); err != nil {
					// Closed between responses. Fine once the server said
					// Connection: close; otherwise the requests in flight
					// were sent after the server shut an idle connection.
					unanswered.Add(1)
					return
				}
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					partial.Add(1)
					t.Logf("read: %v", err)
					return
				}
				b, err := io.ReadAll(res.Body)
				if err != nil || string(b) != "done" {
					partial.Add(1)
					return
				}
				received.Add(1)
				if res.Close {
					return
				}
				if _, err := io.WriteString(c, req); err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	wg.Wait()
	t.Logf("%d requests handled, %d responses received; %d connections closed idle with requests in flight",
		handled.Load(), received.Load(), unanswered.Load())
	if received.Load() < 100 {
		t.Fatalf("only %d responses before shutdown: the load did not run", received.Load())
	}
	if h, r := handled.Load(), received.Load(); h != r || partial.Load() != 0 {
		t.Fatalf("%d requests handled, %d responses received whole, %d cut: every handled request must be answered", h, r, partial.Load())
	}
	if n := unanswered.Load(); n != 0 {
		t.Errorf("%d busy connections were shut as idle with a request in flight", n)
	}
}

func TestStatsAndHealthz(t *testing.T) {
	_, addr := start(t, engine.Config{Loops: 2}, nil)
	for range 5 {
		res, err := http.Get("http://" + addr + "/plaintext")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	res, err := http.Get("http://" + addr + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	got := body(res)
	if !strings.Contains(got, `"loops":[`) || !strings.Contains(got, `"requests":`) {
		t.Fatalf("/stats = %q", got)
	}
	res, err = http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if got := body(res); res.StatusCode != 200 || got != "ok\n" {
		t.Fatalf("/healthz: %d %q", res.StatusCode, got)
	}
}

// heapPeak samples the heap in use until stop is called, which returns the
// largest value seen.
func heapPeak() (stop func() int64) {
	var peak atomic.Int64
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if v := int64(ms.HeapInuse); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-quit:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(quit)
		<-done
		return peak.Load()
	}
}

// TestBodyDeadline: a body must complete within the body timeout, or have
// kept the minimum rate (500 bytes a second by default) over it and over
// every window of that length after.
func TestBodyDeadline(t *testing.T) {
	const bodyTimeout = 500 * time.Millisecond
	_, addr := start(t, engine.Config{Loops: 1, BodyTimeout: bodyTimeout}, nil)

	t.Run("stalled body gets 408", func(t *testing.T) {
		c := dial(t, addr)
		io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
		t0 := time.Now()
		b, err := readAll(t, c, 3*time.Second)
		took := time.Since(t0)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !bytes.HasPrefix(b, []byte("HTTP/1.1 408 ")) {
			t.Fatalf("got %q, want a 408", b)
		}
		if took < bodyTimeout-100*time.Millisecond || took > bodyTimeout+time.Second {
			t.Errorf("408 after %v, want about %v", took, bodyTimeout)
		}
	})
	t.Run("a trickle below the minimum rate gets 408", func(t *testing.T) {
		// A byte every third of the timeout: never silent for a whole
		// timeout, which was all the old idle timeout asked, but 6 bytes a
		// second, far below 500.
		c := dial(t, addr)
		io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
		t0 := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 20 {
				time.Sleep(bodyTimeout / 3)
				if _, err := c.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}()
		b, err := readAll(t, c, 5*time.Second)
		took := time.Since(t0)
		<-done
		if err != nil || !bytes.HasPrefix(b, []byte("HTTP/1.1 408 ")) {
			t.Fatalf("got %q, %v; want a 408", b, err)
		}
		if took > bodyTimeout+time.Second {
			t.Errorf("408 after %v, want about %v", took, bodyTimeout)
		}
	})
	t.Run("a body at the minimum rate is served past the timeout", func(t *testing.T) {
		// 100 bytes every tenth of the timeout: 2000 bytes a second, over
		// three timeouts.
		const pieces = 30
		c := dial(t, addr)
		fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", pieces*100)
		for range pieces {
			time.Sleep(bodyTimeout / 10)
			c.Write(bytes.Repeat([]byte{'s'}, 100))
		}
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := body(res); res.StatusCode != 200 || !strings.Contains(got, `"body":"c3Nz`) {
			t.Fatalf("got %d %q", res.StatusCode, got)
		}
	})
}

func TestSeveralListeners(t *testing.T) {
	e := engine.New(engine.Config{Loops: 2, Logger: enginetest.Logger(t)})
	handlers.RegisterBuiltins(e.Handlers(), e.Stats)
	var addrs []string
	for range 2 {
		a, err := e.Listen("http://127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, a.String())
	}
	if addrs[0] == addrs[1] {
		t.Fatalf("two listeners on one address %s", addrs[0])
	}
	if _, err := e.Listen("nope://127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "forgotten import?") {
		t.Errorf("Listen with an unknown scheme: %v, want an unknown codec error", err)
	}
	if _, err := e.Listen("http://127.0.0.1:0/path"); err == nil {
		t.Errorf("Listen with a path: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	<-e.Ready()
	for _, a := range addrs {
		res, err := http.Get("http://" + a + "/plaintext")
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if got := body(res); got != "Hello, World!" {
			t.Fatalf("%s: %q", a, got)
		}
	}
	if _, err := e.Listen("http://127.0.0.1:0"); err == nil {
		t.Errorf("Listen after Run: no error")
	}
	cancel() // Run drains by itself when its context ends
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestConnStateAndConnValue(t *testing.T) {
	var mu sync.Mutex
	var events []string
	_, addr := start(t, engine.Config{
		Loops: 1,
		ConnState: func(c handlers.Conn, st handlers.ConnState) {
			mu.Lock()
			defer mu.Unlock()
			if st == handlers.StateOpen {
				c.SetValue(len(events)) // a per-connection value, set at open
			}
			events = append(events, fmt.Sprintf("%v %v", st, c.Value()))
		},
	}, func(e *engine.Engine) {
		e.HandleFunc("GET", "/value", func(w *handlers.Response, r *handlers.Request) {
			fmt.Fprintf(w, "%v %v", r.Conn.Value(), r.Conn.EngineContext().Err())
		})
	})
	c := dial(t, addr)
	io.WriteString(c, "GET /value HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b, err := readAll(t, c, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close() // answer the server's FIN: it stops lingering
	rs := readResponses(t, b, "GET")
	if len(rs) != 1 || body(rs[0]) != "0 <nil>" {
		t.Fatalf("handler saw %q, want the value set at open and a live engine context", b)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(events, ", ")
		mu.Unlock()
		if got == "open 0, closed 0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %q, want %q", got, "open 0, closed 0")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDribbledChunkedBodyCostsLinearTime: a chunked body (no length known
// up front) sent in small paced writes, so that the server reads each on
// its own. Every read arrives with a partial frame buffered; the reactor
// must not copy all of it again at each read, which made a 4 MB body cost
// tens of seconds of CPU. The bound is loose on purpose: it tells linear
// from quadratic, it is not a speed target.
func TestDribbledChunkedBodyCostsLinearTime(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("bounds CPU time: not under -race or -short")
	}
	_, addr := start(t, engine.Config{Loops: 1, Limits: codec.Limits{MaxBody: 32 << 20}}, func(e *engine.Engine) {
		e.HandleFunc("POST", "/len", func(w *handlers.Response, r *handlers.Request) {
			w.AppendInt(int64(len(r.Body)))
		})
	})
	c := dial(t, addr)
	const size = 1 << 10
	const chunks = 16 << 10 // 16 MiB of 1 KiB chunks
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	io.WriteString(c, "POST /len HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
	chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", size, strings.Repeat("d", size)))
	for range chunks {
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Microsecond) // one read per write, mostly
	}
	io.WriteString(c, "0\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := body(res), strconv.Itoa(chunks*size); got != want {
		t.Fatalf("body length %s, want %s", got, want)
	}
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	t.Logf("CPU for %d chunks: %v", chunks, cpu)
	if cpu > 5*time.Second { // about 1 s when linear, over 10 s when quadratic
		t.Errorf("CPU %v for a 16 MiB body in 1 KiB writes: quadratic copying?", cpu)
	}
}

// TestDrainAnswersEveryBufferedRequest: requests a client pipelined before
// the drain began are all answered; the last answer carries
// Connection: close. (net/http's Shutdown drops such requests.)
func TestDrainAnswersEveryBufferedRequest(t *testing.T) {
	gate := make(chan struct{})
	var entered sync.Once
	inside := make(chan struct{})
	e, addr := start(t, engine.Config{Loops: 1}, func(e *engine.Engine) {
		e.HandleFunc("GET", "/slow", func(w *handlers.Response, r *handlers.Request) {
			entered.Do(func() { close(inside) })
			<-gate // holds the loop: the pipelined requests queue up behind it
			w.WriteString("slow")
		})
	})
	c := dial(t, addr)
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-inside
	// While the loop is held: five more requests, then the drain begins.
	var reqs bytes.Buffer
	for i := range 5 {
		fmt.Fprintf(&reqs, "GET /echo?i=%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
	}
	c.Write(reqs.Bytes())
	time.Sleep(100 * time.Millisecond) // let them reach the server's socket
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- e.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond) // the drain has started
	close(gate)
	b, err := readAll(t, c, 5*time.Second)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	c.Close() // answer the server's FIN: it stops lingering
	rs := readResponses(t, b, "GET")
	if len(rs) != 6 {
		t.Fatalf("%d responses, want 6 (every request received before the drain)", len(rs))
	}
	for i, res := range rs {
		if last := i == len(rs)-1; res.Close != last {
			t.Errorf("response %d: Connection: close = %v, want %v", i, res.Close, last)
		}
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
