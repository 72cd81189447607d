package reactor

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// reclaimer hands memory back to the operating system after a storm.
//
// After thousands of connections held large partial frames and left, the
// heap is mostly garbage and pooled buffers (gnet's ring buffers, carry
// buffers); an idle process runs no collection but the runtime's forced
// one every two minutes, pools keep their buffers through one collection,
// and the scavenger returns pages slowly: RSS stayed at 1 GB for minutes.
// So when the input held or the open connections fall to half their peak,
// the reclaimer collects twice and frees what it can at once.
//
// check runs on gnet's ticker goroutine only; the collection runs on a
// goroutine of its own, so that no loop and no tick waits for it.
type reclaimer struct {
	peakHeld, peakOpen int64
	last               time.Time
	running            atomic.Bool
	free               func() // what a reclaim does; nil: freeMemory
}

// freeMemory collects twice and returns the freed pages.
func freeMemory() {
	runtime.GC()         // pooled buffers move to the pools' victim caches
	debug.FreeOSMemory() // collects them, then returns the free pages
}

// Thresholds of a storm worth reclaiming after, and the least time between
// two reclaims (a full collection of a large heap costs CPU).
const (
	reclaimHeld  = 32 << 20
	reclaimOpen  = 1024
	reclaimEvery = 10 * time.Second
)

func (r *reclaimer) check(held, open int64, now time.Time) {
	r.peakHeld = max(r.peakHeld, held)
	r.peakOpen = max(r.peakOpen, open)
	fell := r.peakHeld-held >= reclaimHeld && held <= r.peakHeld/2 ||
		r.peakOpen-open >= reclaimOpen && open <= r.peakOpen/2
	if !fell || now.Sub(r.last) < reclaimEvery || r.running.Load() {
		return
	}
	r.peakHeld, r.peakOpen, r.last = held, open, now
	r.running.Store(true)
	free := r.free
	if free == nil {
		free = freeMemory
	}
	go func() {
		defer r.running.Store(false)
		free()
	}()
}
