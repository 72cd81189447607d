package cocaine

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
)

// TestHeldCallsAreBounded is the held-calls attack at a scale that fits
// CI: connections open unary calls, send each a large params chunk, never
// the choke, and keep the connection alive with heartbeats. Before the
// whole-process bounds, heartbeats restarted the body timeout and nothing
// bounded a call from its first byte: such connections held their params
// for as long as they liked. Now heartbeats are no progress: every call is
// refused within about two body timeouts (CodeTimeout) — or at once
// (CodeBusy) when the input budget cannot hold its params — the
// connection closes, the bytes held stay within the budget, and a
// bystander's call is answered meanwhile.
func TestHeldCallsAreBounded(t *testing.T) {
	const (
		budget      = 6 << 20
		conns       = 16
		calls       = 4
		bodyTimeout = 400 * time.Millisecond
	)
	e, addr, _, _ := startEngine(t, engine.Config{Loops: 1, BodyTimeout: bodyTimeout, InputBudget: budget})
	peak := enginetest.HeldPeak(e)
	// params [bin of 128 KiB]
	params := append([]byte{0x91, 0xc6, 0x00, 0x02, 0x00, 0x00}, bytes.Repeat([]byte{'p'}, 128<<10)...)
	type outcome struct {
		codes []int // the error codes received on the calls' channels
		took  time.Duration
		err   error
	}
	results := make(chan outcome, conns)
	for range conns {
		c := dialCocaine(t, addr)
		go func() {
			t0 := time.Now()
			var frames []byte
			for ch := uint64(2); ch < 2+calls; ch++ {
				frames = append(frames, invoke(ch, "ping")...)
				frames = append(frames, chunk(ch, string(params))...)
			}
			c.c.Write(frames)
			stop := make(chan struct{})
			defer close(stop)
			go func() { // heartbeats, to keep it alive
				// Every 5 ms: over 500 bytes a second, which would pass
				// for the minimum rate if heartbeats counted as progress.
				hb := V12.AppendHeartbeat(nil)
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
						if _, err := c.c.Write(hb); err != nil {
							return
						}
					}
				}
			}()
			var o outcome
			for {
				if time.Since(t0) > 10*time.Second {
					o.err = errors.New("still open after 10 s")
					break
				}
				f, err := c.next()
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
						o.err = err
					}
					break
				}
				var m Message
				if err := V12.Parse(f, &m); err != nil {
					o.err = err
					break
				}
				if m.Channel == ControlChannel {
					continue // a heartbeat's answer
				}
				_, code, _, err := parseError(V12, &m)
				if m.Type != TypeError || err != nil {
					o.err = errors.New("not an error: " + render(t, V12, f))
					break
				}
				o.codes = append(o.codes, code)
			}
			o.took = time.Since(t0)
			results <- o
		}()
	}
	// A bystander is served while the attack holds.
	by := dialCocaine(t, addr)
	by.send(invoke(2, "ping"), choke(2))
	if got, want := by.read(2), lines(`[2 0 ["\xa4pong"] []]`, `[2 2 [] []]`); got != want {
		t.Errorf("bystander: got %q, want %q", got, want)
	}
	timedOut, busy := 0, 0
	for range conns {
		o := <-results
		if o.err != nil {
			t.Errorf("attacker: %v", o.err)
		}
		if len(o.codes) == 0 {
			t.Errorf("attacker closed after %v without an error on its calls", o.took)
		}
		for _, code := range o.codes {
			switch code {
			case handlers.CodeTimeout:
				timedOut++
			case handlers.CodeBusy:
				busy++
			default:
				t.Errorf("error code %d, want %d (timeout) or %d (busy)", code, handlers.CodeTimeout, handlers.CodeBusy)
			}
		}
		// One window where the params came, one where only heartbeats did;
		// a loaded machine delays the sweeps.
		if o.took > 3*bodyTimeout+2*time.Second {
			t.Errorf("attacker closed after %v, want within about two body timeouts (%v)", o.took, bodyTimeout)
		}
	}
	held := peak()
	t.Logf("calls refused: %d timed out, %d busy; peak held %d KiB", timedOut, busy, held>>10)
	if timedOut == 0 || busy == 0 {
		t.Errorf("%d timed out and %d busy, want both: the budget holds some of the calls, not all", timedOut, busy)
	}
	if held > enginetest.HeldBound(budget, conns) {
		t.Errorf("peak held %d bytes, over the budget %d and a read per connection", held, budget)
	}
	for deadline := time.Now().Add(5 * time.Second); e.Stats().Total().InputHeld != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still held after the attack", e.Stats().Total().InputHeld)
		}
	}
}
