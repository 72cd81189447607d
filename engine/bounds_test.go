package engine_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/tokamak-io/tokamak/codec/cocaine"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
)

// The attacks on the whole process, at a scale that fits CI: each asserts
// the bound — bytes held, connections closed by their deadline, bystanders
// served — not only that nothing crashed. bench/attack runs them at full
// scale.

// bystander checks, until stop is called, that GET /plaintext keeps being
// answered on fresh connections; stop returns the slowest answer and the
// failures.
func bystander(t *testing.T, addr string) (stop func() (time.Duration, int)) {
	var slowest atomic.Int64
	var failed atomic.Int32
	done := make(chan struct{})
	finished := make(chan struct{})
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(finished)
		for {
			t0 := time.Now()
			res, err := client.Get("http://" + addr + "/plaintext")
			if err != nil || body(res) != "Hello, World!" {
				failed.Add(1)
			}
			slowest.Store(max(slowest.Load(), int64(time.Since(t0))))
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() (time.Duration, int) {
		close(done)
		<-finished
		return time.Duration(slowest.Load()), int(failed.Load())
	}
}

// Bodies that arrive quickly and then trickle, a byte at a time, to hold
// the server's memory: those past the input budget are refused at once
// (503), the others get 408 when their first window passes below the
// minimum rate; the bytes held never pass the budget by more than a read
// per connection, and bystanders are served throughout.
func TestTrickledBodiesAreBounded(t *testing.T) {
	const (
		budget      = 4 << 20
		conns       = 30
		bodyTimeout = 500 * time.Millisecond
	)
	e, addr := start(t, engine.Config{Loops: 1, BodyTimeout: bodyTimeout, InputBudget: budget}, nil)
	peak := enginetest.HeldPeak(e)
	by := bystander(t, addr)
	type result struct {
		status string
		took   time.Duration
	}
	results := make(chan result, conns)
	fast := bytes.Repeat([]byte{'x'}, 400<<10)
	for range conns {
		go func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				results <- result{"dial: " + err.Error(), 0}
				return
			}
			defer c.Close()
			t0 := time.Now()
			fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 512<<10)
			c.Write(fast)
			stop := make(chan struct{})
			go func() { // the trickle
				for {
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
						if _, err := c.Write([]byte{'x'}); err != nil {
							return
						}
					}
				}
			}()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			close(stop)
			if err != nil {
				line = err.Error()
			}
			results <- result{strings.TrimSpace(line), time.Since(t0)}
		}()
	}
	counts := map[string]int{}
	for range conns {
		r := <-results
		counts[r.status]++
		// The fast part keeps the rate of the first window, the trickle
		// fails the second: about two timeouts (a loaded machine delays
		// the sweeps). Without the minimum rate the trickle, never silent
		// for a timeout, would hold on past the read deadline.
		if strings.Contains(r.status, " 408 ") && r.took > 3*bodyTimeout+2*time.Second {
			t.Errorf("408 after %v, want it after the second %v window", r.took, bodyTimeout)
		}
	}
	slowest, failed := by()
	held := peak()
	t.Logf("answers %v; peak held %d KiB; bystanders: slowest %v, %d failed", counts, held>>10, slowest, failed)
	if counts["HTTP/1.1 503 Service Unavailable"] == 0 || counts["HTTP/1.1 408 Request Timeout"] == 0 ||
		counts["HTTP/1.1 503 Service Unavailable"]+counts["HTTP/1.1 408 Request Timeout"] != conns {
		t.Errorf("answers %v, want every connection refused: 503 past the budget, 408 within it", counts)
	}
	if limit := enginetest.HeldBound(budget, conns); held > limit {
		t.Errorf("peak held %d bytes, want at most the budget and a read per connection (%d)", held, limit)
	}
	if failed > 0 {
		t.Errorf("%d bystander requests failed during the attack", failed)
	}
	waitUntil(t, "nothing held", func() bool { return e.Stats().Total().InputHeld == 0 })
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The offload pool is bounded by bytes: the copies of requests queued or
// running count against the input budget, and a request the budget cannot
// take is answered 503 at once however free the pool's queue is.
func TestOffloadBoundedByBytes(t *testing.T) {
	const (
		budget = 2 << 20
		conns  = 24
		size   = 256 << 10
	)
	gate := make(chan struct{})
	var ran atomic.Int32
	e, addr := start(t, engine.Config{Loops: 1, InputBudget: budget, OffloadWorkers: 2, OffloadQueue: 1000},
		func(e *engine.Engine) {
			e.Handle("POST", "/slow", handlers.Blocking(handlers.HandlerFunc(func(w *handlers.Response, r *handlers.Request) {
				<-gate
				ran.Add(1)
				fmt.Fprintf(w, "%d", len(r.Body))
			})))
		})
	peak := enginetest.HeldPeak(e)
	statuses := make(chan int, conns)
	body := bytes.Repeat([]byte{'b'}, size)
	for range conns {
		go func() {
			res, err := http.Post("http://"+addr+"/slow", "text/plain", bytes.NewReader(body))
			if err != nil {
				statuses <- 0
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	// The busy answers come at once; the others wait for the gate.
	var busy int
	for busy < conns-budget/size {
		select {
		case s := <-statuses:
			if s != 503 {
				t.Fatalf("status %d before the gate opened, want 503", s)
			}
			busy++
		case <-time.After(5 * time.Second):
			t.Fatalf("%d answered busy, want at least %d (the budget holds %d copies)", busy, conns-budget/size, budget/size)
		}
	}
	waitUntil(t, "the copies held", func() bool { return e.Stats().OffloadHeld > 0 })
	close(gate)
	ok := 0
	for range conns - busy {
		switch s := <-statuses; s {
		case 200:
			ok++
		case 503:
			busy++
		default:
			t.Errorf("status %d", s)
		}
	}
	held := peak()
	t.Logf("%d served, %d busy; peak held %d KiB", ok, busy, held>>10)
	if ok == 0 || int(ran.Load()) != ok {
		t.Errorf("%d served, %d ran", ok, ran.Load())
	}
	if held > enginetest.HeldBound(budget, conns) {
		t.Errorf("peak held %d bytes, over the budget %d and a read per connection", held, budget)
	}
	waitUntil(t, "the copies released", func() bool { return e.Stats().OffloadHeld == 0 })
}

// Work queued for a client that left is dropped before it runs, and a
// running handler sees its connection's context cancelled: 20 clients
// that each send a slow request and leave do not keep the pool busy for
// 20 × the handler's time, and a call made after them is served at once.
func TestWorkOfClosedClientsIsDropped(t *testing.T) {
	const clients = 20
	var ran, cancelled atomic.Int32
	e, addr := start(t, engine.Config{Loops: 1, OffloadWorkers: 1}, func(e *engine.Engine) {
		e.Handle("GET", "/slow", handlers.Blocking(handlers.HandlerFunc(func(w *handlers.Response, r *handlers.Request) {
			ran.Add(1)
			select {
			case <-r.Conn.Context().Done():
				cancelled.Add(1)
			case <-time.After(300 * time.Millisecond):
			}
			w.WriteString("done")
		})))
		e.Handle("GET", "/quick", handlers.Blocking(handlers.HandlerFunc(func(w *handlers.Response, r *handlers.Request) {
			w.WriteString("quick")
		})))
	})
	for range clients {
		c := dial(t, addr)
		io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
		c.Close()
	}
	waitUntil(t, "the clients gone", func() bool { return e.Stats().Total().Connections == 0 })
	t0 := time.Now()
	res, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/quick")
	if err != nil || body(res) != "quick" {
		t.Fatalf("a call after the clients left: %v", err)
	}
	took := time.Since(t0)
	dropped := e.Stats().OffloadDropped
	t.Logf("ran %d, cancelled %d, dropped %d; the next call took %v", ran.Load(), cancelled.Load(), dropped, took)
	// Each request either waited and was dropped, or ran and saw its
	// client leave; none held the only worker for its full 300 ms, which
	// would have made the next call wait about 6 s.
	if int(ran.Load())+int(dropped) != clients || dropped == 0 {
		t.Errorf("ran %d + dropped %d, want %d with some dropped", ran.Load(), dropped, clients)
	}
	if cancelled.Load() != ran.Load() {
		t.Errorf("%d of %d running handlers were told that their client left, want all", cancelled.Load(), ran.Load())
	}
	if took > time.Second {
		t.Errorf("the next call took %v, want it served at once", took)
	}
}

// One listener cannot take every connection slot: Cocaine connections
// that each hold a partial frame fill their share, and HTTP connections
// are still accepted and served in the slots reserved for their listener;
// past its share a Cocaine connection is reset at once.
func TestListenerShareKeepsOtherProtocolsServed(t *testing.T) {
	const maxConns = 40
	e := engine.New(engine.Config{Loops: 1, MaxConns: maxConns, Logger: enginetest.Logger(t)})
	handlers.RegisterBuiltins(e.Handlers(), e.Stats)
	httpAddr, err := e.Listen("http://127.0.0.1:0?reserve=10")
	if err != nil {
		t.Fatal(err)
	}
	cocaineAddr, err := e.Listen("cocaine://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	enginetest.Run(t, e)

	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for range maxConns + 10 {
		c, err := net.Dial("tcp", cocaineAddr.String())
		if err != nil {
			continue // reset before the dial returned
		}
		c.Write([]byte{0x94, 0x02, 0x00, 0x91, 0xa4}) // a partial invoke
		flood = append(flood, c)
	}
	// The reserve of HTTP's listener is 10, Cocaine's is the default
	// share (40 / (4 × 2) = 5, unused by HTTP): Cocaine gets 30.
	waitUntil(t, "the flood accepted", func() bool { return e.Stats().Listeners[1].Connections == maxConns-10 })
	time.Sleep(50 * time.Millisecond) // refused ones are reset by now
	var ok atomic.Int32
	var wg sync.WaitGroup
	var keep []net.Conn
	var mu sync.Mutex
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", httpAddr.String(), 2*time.Second)
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(2 * time.Second))
			io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil && body(res) == "Hello, World!" {
				ok.Add(1)
			}
			mu.Lock()
			keep = append(keep, c) // held open: each takes a slot
			mu.Unlock()
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range keep {
			c.Close()
		}
	}()
	st := e.Stats()
	t.Logf("listeners %+v", st.Listeners)
	if ok.Load() != 10 {
		t.Errorf("%d of 10 HTTP connections served while Cocaine connections fill their share, want 10", ok.Load())
	}
	if st.Listeners[1].Refused < 10 {
		t.Errorf("%d Cocaine connections refused past the share, want at least 10", st.Listeners[1].Refused)
	}
	// A refused connection learns it at once: a reset, not a wait.
	c, err := net.Dial("tcp", cocaineAddr.String())
	if err == nil {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("a connection past the share: %v, want a reset", err)
	}
}

// startStormChild runs an engine in a child process (its memory is its
// own to measure) and returns its HTTP address and PID.
func startStormChild(t *testing.T) (addr string, pid int) {
	t.Helper()
	ch := startChild(t, "storm")
	return ch.addr, ch.pid
}

// After a storm of connections holding large partial bodies leaves, the
// memory comes back: the process's RSS falls back to within twice its
// baseline plus 32 MiB, in seconds, not the minutes the runtime's forced
// collections and pools would take.
func TestMemoryComesBackAfterAStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("a storm of 100 MB: not in -short")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory is not the engine's, and is not given back")
	}
	addr, pid := startStormChild(t)
	getEventually(t, addr)
	base := rssOf(t, pid)
	const conns = 200
	piece := bytes.Repeat([]byte{'s'}, 512<<10)
	var storm []net.Conn
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 1<<20)
		c.Write(piece)
		storm = append(storm, c)
	}
	var peak int64
	for range 20 {
		peak = max(peak, rssOf(t, pid))
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range storm {
		c.Close()
	}
	t0 := time.Now()
	target := 2*base + 32<<20
	for {
		rss := rssOf(t, pid)
		if rss <= target {
			t.Logf("baseline %d MiB, storm %d MiB, back to %d MiB in %v", base>>20, peak>>20, rss>>20, time.Since(t0).Round(10*time.Millisecond))
			break
		}
		if time.Since(t0) > 20*time.Second {
			t.Fatalf("RSS %d MiB 20 s after the storm (baseline %d MiB, peak %d MiB), want at most %d MiB",
				rss>>20, base>>20, peak>>20, target>>20)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if peak < base+conns*(256<<10) {
		t.Errorf("the storm took RSS only from %d to %d MiB: it held too little to test anything", base>>20, peak>>20)
	}
	getEventually(t, addr)
}
