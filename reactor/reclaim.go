package reactor

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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
// So the reclaimer collects twice and frees what it can at once:
//
//   - when the input held or the open connections have fallen to half
//     their peak (by at least reclaimHeld or reclaimOpen) and stopped
//     falling: the attackers left;
//   - when the heap holds at least reclaimHeap more than twice what was
//     live after the last reclaim, and the process allocates less than
//     1/64 of it a second: a storm of other work (large bodies converted
//     on the offload pool, say) is over and nothing will collect its
//     garbage soon. A process that keeps a large heap live is collected
//     once, then not again until its heap doubles.
//
// Either way at most once every reclaimEvery. check runs on gnet's ticker
// goroutine only; the collection runs on a goroutine of its own, so that
// no loop and no tick waits for it.
type reclaimer struct {
	peakHeld, peakOpen int64
	prevHeld, prevOpen int64         // at the last check
	lastLive           atomic.Uint64 // the live heap after the last reclaim
	lastAllocs         uint64        // cumulative heap allocations at the last check
	last               time.Time
	running            atomic.Bool
	free               func() uint64 // what a reclaim does, returning the live heap; nil: freeMemory
	log                *slog.Logger  // nil: no log line
	samples            []metrics.Sample
}

// Thresholds of a storm worth reclaiming after, and the least time between
// two reclaims (a full collection of a large heap costs CPU). 64
// connections is few, but the output the reactor does not count can be
// large: 200 connections that never read held 4 MiB of answers each.
const (
	reclaimHeld  = 32 << 20
	reclaimOpen  = 64
	reclaimHeap  = 64 << 20
	reclaimEvery = 10 * time.Second
	// settleSlack is how much the input held may fall in a second while
	// counting as settled: a loaded server's partial input moves all
	// the time.
	settleSlack = 1 << 20
)

// heapStats is what the reclaimer reads of the heap.
type heapStats struct {
	held   uint64 // bytes the heap holds and has not returned: objects, unused and free spans
	allocs uint64 // bytes allocated since the process started
	live   uint64 // the live heap as of the last collection
}

// readHeap reads the heap's figures from runtime/metrics, which does not
// stop the world.
func (r *reclaimer) readHeap() heapStats {
	if r.samples == nil {
		for _, name := range []string{
			"/memory/classes/heap/objects:bytes",
			"/memory/classes/heap/unused:bytes",
			"/memory/classes/heap/free:bytes",
			"/gc/heap/allocs:bytes",
			"/gc/heap/live:bytes",
		} {
			r.samples = append(r.samples, metrics.Sample{Name: name})
		}
	}
	metrics.Read(r.samples)
	u := func(i int) uint64 {
		if r.samples[i].Value.Kind() == metrics.KindUint64 {
			return r.samples[i].Value.Uint64()
		}
		return 0
	}
	return heapStats{held: u(0) + u(1) + u(2), allocs: u(3), live: u(4)}
}

// freeMemory collects twice, returns the freed pages to the operating
// system and reports the live heap.
func freeMemory() uint64 {
	runtime.GC()         // pooled buffers move to the pools' victim caches
	debug.FreeOSMemory() // collects them, then returns the free pages
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	if live[0].Value.Kind() == metrics.KindUint64 {
		return live[0].Value.Uint64()
	}
	return 0
}

func (r *reclaimer) check(held, open int64, heap heapStats, now time.Time) {
	r.peakHeld = max(r.peakHeld, held)
	r.peakOpen = max(r.peakOpen, open)
	allocated := heap.allocs - min(r.lastAllocs, heap.allocs)
	r.lastAllocs = heap.allocs
	// Not while the attackers are still leaving: a collection in the
	// middle of it finds the rest of them live, and the next is ten
	// seconds away.
	settled := open >= r.prevOpen && held+settleSlack >= r.prevHeld
	r.prevHeld, r.prevOpen = held, open
	left := settled && (r.peakHeld-held >= reclaimHeld && held <= r.peakHeld/2 ||
		r.peakOpen-open >= reclaimOpen && open <= r.peakOpen/2)
	garbage := heap.held >= 2*r.lastLive.Load()+reclaimHeap && allocated < heap.held/64
	if !left && !garbage || now.Sub(r.last) < reclaimEvery || r.running.Load() {
		return
	}
	r.peakHeld, r.peakOpen, r.last = held, open, now
	r.running.Store(true)
	free := r.free
	if free == nil {
		free = freeMemory
	}
	why := "the input held or the connections fell to half their peak"
	if !left {
		why = "a quiet process holds a heap of garbage"
	}
	go func() {
		defer r.running.Store(false)
		live := free()
		r.lastLive.Store(live)
		if r.log != nil {
			r.log.Info("reactor: memory handed back after a storm", "why", why,
				"heap_before", heap.held, "live_after", live)
		}
	}()
}
