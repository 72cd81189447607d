package offload

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoolIsBounded(t *testing.T) {
	p := New(2, 3, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	gate := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	var ran atomic.Int32
	block := func() { started.Done(); <-gate; ran.Add(1) }
	queued := func() { ran.Add(1) }
	if !p.Go(nil, 0, block) || !p.Go(nil, 0, block) {
		t.Fatal("idle workers refused work")
	}
	started.Wait() // both workers busy
	for i := range 3 {
		if !p.Go(nil, 0, queued) {
			t.Fatalf("queue slot %d refused", i)
		}
	}
	if p.Go(nil, 0, queued) {
		t.Fatal("a full pool took more work")
	}
	close(gate)
	p.Stop()
	for deadline := time.Now().Add(5 * time.Second); ran.Load() != 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := ran.Load(); got != 5 {
		t.Errorf("%d functions ran, want 5 (queued work runs after Stop)", got)
	}
	if p.Go(nil, 0, queued) {
		t.Error("a closed pool took work")
	}
}

func TestPoolSurvivesPanics(t *testing.T) {
	p := New(1, 0, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer p.Stop()
	done := make(chan struct{})
	for !p.Go(nil, 0, func() { panic("boom") }) {
	}
	for !p.Go(nil, 0, func() { close(done) }) {
	}
	<-done // the one worker is still alive
}

func TestStopDoesNotWait(t *testing.T) {
	p := New(1, 1, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	gate := make(chan struct{})
	started := make(chan struct{})
	ran := make(chan struct{}, 2)
	if !p.Go(nil, 0, func() { close(started); <-gate; ran <- struct{}{} }) {
		t.Fatal("an idle pool refused work")
	}
	<-started
	if !p.Go(nil, 0, func() { ran <- struct{}{} }) {
		t.Fatal("the queue refused work")
	}
	p.Stop() // returns with the worker busy
	if p.Go(nil, 0, func() {}) {
		t.Error("a stopped pool took work")
	}
	close(gate)
	<-ran
	<-ran // the queued function still ran
}

// budget is a test Budget with a fixed limit.
type budget struct {
	mu         sync.Mutex
	limit, use int
}

func (b *budget) Reserve(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.use+n > b.limit {
		return false
	}
	b.use += n
	return true
}

func (b *budget) Release(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.use -= n
}

func (b *budget) inUse() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.use
}

// Work holds its bytes against the budget while queued and running, and
// a submission the budget cannot take is refused however idle the pool.
func TestPoolCountsBytes(t *testing.T) {
	b := &budget{limit: 100}
	p := New(1, 8, b, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer p.Stop()
	gate := make(chan struct{})
	started := make(chan struct{})
	if !p.Go(nil, 60, func() { close(started); <-gate }) {
		t.Fatal("an idle pool refused 60 of 100 bytes")
	}
	<-started
	if p.Go(nil, 41, func() {}) {
		t.Fatal("the pool took 41 bytes with 40 left in the budget")
	}
	done := make(chan struct{})
	if !p.Go(nil, 40, func() { close(done) }) {
		t.Fatal("the pool refused 40 bytes with 40 left")
	}
	if got := b.inUse(); got != 100 {
		t.Errorf("budget in use %d with a running and a queued call, want 100", got)
	}
	close(gate)
	<-done
	for deadline := time.Now().Add(5 * time.Second); b.inUse() != 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := b.inUse(); got != 0 {
		t.Errorf("budget in use %d after the work ran, want 0", got)
	}
}

// Work whose connection closed while it waited is dropped, unrun, and
// gives its bytes back; the rest runs.
func TestPoolDropsWorkOfClosedConnections(t *testing.T) {
	b := &budget{limit: 1 << 20}
	p := New(1, 8, b, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer p.Stop()
	gate := make(chan struct{})
	started := make(chan struct{})
	if !p.Go(nil, 0, func() { close(started); <-gate }) {
		t.Fatal("an idle pool refused work")
	}
	<-started
	gone, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	for range 3 {
		if !p.Go(gone, 1000, func() { ran.Add(1) }) {
			t.Fatal("the queue refused work")
		}
	}
	done := make(chan struct{})
	if !p.Go(context.Background(), 10, func() { close(done) }) {
		t.Fatal("the queue refused work")
	}
	cancel() // the client left while its work was queued
	close(gate)
	<-done
	if got := ran.Load(); got != 0 {
		t.Errorf("%d functions of a closed connection ran, want 0", got)
	}
	if got := p.Dropped(); got != 3 {
		t.Errorf("Dropped() = %d, want 3", got)
	}
	for deadline := time.Now().Add(5 * time.Second); b.inUse() != 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := b.inUse(); got != 0 {
		t.Errorf("budget in use %d after the queue emptied, want 0", got)
	}
}
