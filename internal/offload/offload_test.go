package offload

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoolIsBounded(t *testing.T) {
	p := New(2, 3, slog.New(slog.NewTextHandler(io.Discard, nil)))
	gate := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	var ran atomic.Int32
	block := func() { started.Done(); <-gate; ran.Add(1) }
	queued := func() { ran.Add(1) }
	if !p.Go(block) || !p.Go(block) {
		t.Fatal("idle workers refused work")
	}
	started.Wait() // both workers busy
	for i := range 3 {
		if !p.Go(queued) {
			t.Fatalf("queue slot %d refused", i)
		}
	}
	if p.Go(queued) {
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
	if p.Go(queued) {
		t.Error("a closed pool took work")
	}
}

func TestPoolSurvivesPanics(t *testing.T) {
	p := New(1, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer p.Stop()
	done := make(chan struct{})
	for !p.Go(func() { panic("boom") }) {
	}
	for !p.Go(func() { close(done) }) {
	}
	<-done // the one worker is still alive
}

func TestStopDoesNotWait(t *testing.T) {
	p := New(1, 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	gate := make(chan struct{})
	started := make(chan struct{})
	ran := make(chan struct{}, 2)
	if !p.Go(func() { close(started); <-gate; ran <- struct{}{} }) {
		t.Fatal("an idle pool refused work")
	}
	<-started
	if !p.Go(func() { ran <- struct{}{} }) {
		t.Fatal("the queue refused work")
	}
	p.Stop() // returns with the worker busy
	if p.Go(func() {}) {
		t.Error("a stopped pool took work")
	}
	close(gate)
	<-ran
	<-ran // the queued function still ran
}
