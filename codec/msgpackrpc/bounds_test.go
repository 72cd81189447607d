package msgpackrpc_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/internal/enginetest"
)

// TestPartialFramesAreBounded: connections that each send most of a large
// request frame and stop. Those the input budget cannot hold are refused
// at once, those it holds when their header timeout passes without the
// minimum rate; each is told so by an error response to its msgid (read
// from the frame's first bytes), then closed. The bytes held stay within
// the budget and a bystander's call is answered meanwhile.
func TestPartialFramesAreBounded(t *testing.T) {
	const (
		budget        = 2 << 20
		conns         = 12
		headerTimeout = 400 * time.Millisecond
	)
	e, addr := start(t, engine.Config{Loops: 1, HeaderTimeout: headerTimeout, InputBudget: budget}, nil)
	peak := enginetest.HeldPeak(e)
	// [0, msgid, "echo", [str of 512 KiB]], of which 300 KiB are sent.
	params := append([]byte{0x91, 0xdb, 0x00, 0x08, 0x00, 0x00}, bytes.Repeat([]byte{'q'}, 300<<10)...)
	type outcome struct {
		msg  string
		took time.Duration
	}
	results := make(chan outcome, conns)
	for i := range conns {
		c := dial(t, addr)
		go func() {
			t0 := time.Now()
			c.Write(append(mpack.AppendStr([]byte{0x94, 0x00, byte(i + 10)}, "echo"), params...))
			r := &reader{t: t, c: c}
			fr, err := r.read()
			if err != nil {
				results <- outcome{"read: " + err.Error(), time.Since(t0)}
				return
			}
			// [1, msgid, error, nil]
			want := []byte{0x94, 0x01, byte(i + 10)}
			msg, _, _ := mpack.ReadStr(fr[len(want):])
			if !bytes.HasPrefix(fr, want) {
				msg = []byte("an answer to another msgid")
			}
			if _, err := r.read(); err == nil {
				msg = []byte("more after the error")
			}
			results <- outcome{string(msg), time.Since(t0)}
		}()
	}
	bystander := dial(t, addr)
	ping(t, bystander, &reader{t: t, c: bystander})
	busy, timedOut := 0, 0
	for range conns {
		o := <-results
		switch {
		case strings.HasPrefix(o.msg, "busy: "):
			busy++
		case strings.HasPrefix(o.msg, "timed out"):
			timedOut++
			if o.took > 3*headerTimeout+2*time.Second {
				t.Errorf("timed out after %v, want about the header timeout %v", o.took, headerTimeout)
			}
		default:
			t.Errorf("got %q, want a busy or timed-out error for the call", o.msg)
		}
	}
	held := peak()
	t.Logf("%d busy, %d timed out; peak held %d KiB", busy, timedOut, held>>10)
	if busy == 0 || timedOut == 0 {
		t.Errorf("%d busy and %d timed out, want both", busy, timedOut)
	}
	if held > enginetest.HeldBound(budget, conns) {
		t.Errorf("peak held %d bytes, over the budget %d and a read per connection", held, budget)
	}
}
