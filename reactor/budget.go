package reactor

import (
	"math"
	"runtime/debug"
	"sync/atomic"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// budget is the engine's budget for buffered input: the bytes of peer
// input held across the process — partial frames and bodies, carry
// buffers, what sessions hold for calls not yet complete (codec.Flow.Held)
// and the copies handed to the offload pool.
//
// Each loop keeps the exact count of its own connections in a plain field
// and publishes it to an atomic of its own (loopStats.held), so the hot
// path writes only its loop's cache line. The total is summed only when a
// connection's held input grows past the floor, which ordinary traffic
// (whole requests, small partial heads) never does.
type budget struct {
	limit int64
	// floor: a connection holding no more than this may grow even past the
	// limit, so that small requests split over reads go on being served
	// while large holders are refused. Set at Run from the connection cap.
	floor int
	loops []*loop
	extra atomic.Int64 // held off the loops: the offload pool's copies
}

// held returns the bytes held across the process.
func (b *budget) held() int64 { return b.extra.Load() + b.loopsHeld() }

// over reports whether the held bytes have passed the limit.
func (b *budget) over() bool { return b.held() > b.limit }

// Reserve implements offload.Budget: the pool's copies count against the
// same limit as the loops' input.
func (b *budget) Reserve(n int) bool {
	if b.extra.Add(int64(n))+b.loopsHeld() > b.limit {
		b.extra.Add(-int64(n))
		return false
	}
	return true
}

// Release implements offload.Budget.
func (b *budget) Release(n int) { b.extra.Add(-int64(n)) }

func (b *budget) loopsHeld() int64 {
	var n int64
	for _, l := range b.loops {
		n += l.stats.held.Load()
	}
	return n
}

// budgetFloor is the input a connection may always hold: its fair share of
// half the budget at the connection cap, between 4 KiB (a request head
// split over two reads) and 64 KiB (one read). Connections at the floor
// can take at most about as much again as the budget.
func budgetFloor(limit int64, maxConns int64) int {
	f := limit / (2 * max(maxConns, 1))
	return int(min(max(f, 4<<10), 64<<10))
}

// MemoryLimit returns the memory the process may use: the smallest of the
// Go runtime's soft limit (GOMEMLIMIT) when one is set, the cgroup's
// memory limit when there is one, and the machine's physical memory.
// It returns 0 when none of them can be read.
func MemoryLimit() int64 {
	limit := int64(math.MaxInt64)
	if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 {
		limit = l
	}
	if l, err := memlimit.FromCgroup(); err == nil && l > 0 && l < uint64(limit) {
		limit = int64(l)
	}
	if l, err := memlimit.FromSystem(); err == nil && l > 0 && l < uint64(limit) {
		limit = int64(l)
	}
	if limit == math.MaxInt64 {
		return 0
	}
	return limit
}

// DefaultInputBudget returns the input budget for a process that may use
// memory bytes: one eighth of it. What the budget counts is the payload;
// gnet's ring buffers round it up to a power of two and the garbage
// collector lets the heap reach twice what is live, so the process's
// memory for held input can be about four times the budget: half of
// what it may use, leaving the rest to everything else. Without a known
// limit it is 1 GiB.
func DefaultInputBudget(memory int64) int64 {
	if memory <= 0 {
		return 1 << 30
	}
	return max(memory/8, 16<<20)
}
