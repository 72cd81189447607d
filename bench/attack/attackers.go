package main

import (
	"bufio"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// attacker is one attacking connection. Its reader (or its prober) calls
// finish once; the scenario's end calls closeAll. Whichever comes first
// decides who closed it.
type attacker struct {
	c      *net.TCPConn
	set    *attackers
	dialed time.Duration // since the scenario started
	first  atomic.Int64  // ns since the scenario started of its first byte written; 0 = none yet
	state  atomic.Int32  // stOpen, stByServer, stByUs
	done   chan struct{} // closed once it is closed, by either side
	sent   atomic.Bool   // it wrote all of its attack (bodies, frames)

	// Written once by the goroutine that wins the state, before done closes.
	closed time.Duration
	how    string // fin, reset, timeout, …
	told   string // the first thing the server said: a status line, an error frame
}

const (
	stOpen int32 = iota
	stByServer
	stByUs
)

// attackers is the set of a scenario's attacking connections.
type attackers struct {
	start  time.Time
	ending atomic.Bool
	// refuseWindow, when set, counts a connection the server closed within
	// it of the dial as refused at open (accepted and closed at once, as a
	// server at its connection cap does) rather than as dropped.
	refuseWindow time.Duration
	open         atomic.Int64
	dials        atomic.Int64 // attempts

	mu       sync.Mutex
	list     []*attacker
	dialErrs map[string]int
}

func newAttackers(start time.Time) *attackers {
	return &attackers{start: start, dialErrs: map[string]int{}}
}

func (s *attackers) since() time.Duration { return time.Since(s.start) }

// add registers a connection that was just dialed.
func (s *attackers) add(c *net.TCPConn) *attacker {
	a := &attacker{c: c, set: s, dialed: s.since(), done: make(chan struct{})}
	s.mu.Lock()
	s.list = append(s.list, a)
	s.mu.Unlock()
	s.open.Add(1)
	return a
}

func (s *attackers) dialFailed(err error) {
	s.mu.Lock()
	s.dialErrs[errKind(err)]++
	s.mu.Unlock()
}

// wrote marks the first byte written, once.
func (a *attacker) wrote() {
	a.first.CompareAndSwap(0, int64(a.set.since()))
}

// finish records that the connection ended as how, the server having said
// told ("" for nothing). After closeAll began, it counts as closed by us.
func (a *attacker) finish(how, told string) {
	st := stByServer
	if a.set.ending.Load() {
		st = stByUs
	}
	if !a.state.CompareAndSwap(stOpen, st) {
		return
	}
	a.closed, a.how, a.told = a.set.since(), how, told
	a.set.open.Add(-1)
	a.c.Close()
	close(a.done)
}

func (a *attacker) isDone() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// sleep waits for d, the attacker's end or ctx's, and reports whether the
// attacker is still open.
func (a *attacker) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !a.isDone()
	case <-a.done:
		return false
	case <-ctx.Done():
		return false
	}
}

// closeByClient closes the connection from the client's side (the
// attack's own close, not the end of the scenario).
func (a *attacker) closeByClient() {
	if a.state.CompareAndSwap(stOpen, stByUs) {
		a.closed, a.how = a.set.since(), "closed by the client"
		a.set.open.Add(-1)
		a.c.Close()
		close(a.done)
	}
}

// closedByServer reports whether the server closed the connection; valid
// once done is closed.
func (a *attacker) closedByServer() bool { return a.state.Load() == stByServer }

// closeAll ends the attack: every connection still open is closed, by us.
func (s *attackers) closeAll() {
	s.ending.Store(true)
	s.mu.Lock()
	list := s.list
	s.mu.Unlock()
	for _, a := range list {
		a.closeByClient()
	}
}

// records returns what the summary needs of each connection. Call it
// after closeAll.
func (s *attackers) records() []closeRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := make([]closeRec, 0, len(s.list))
	for _, a := range s.list {
		<-a.done
		r := closeRec{byServer: a.state.Load() == stByServer, sent: a.sent.Load(), how: a.how, told: a.told, secs: -1}
		if r.byServer && s.refuseWindow > 0 && a.closed-a.dialed < s.refuseWindow {
			r.byServer, r.refused = false, true
		}
		if f := a.first.Load(); f > 0 && r.byServer {
			r.secs = (a.closed - time.Duration(f)).Seconds()
		} else if r.byServer {
			r.secs = (a.closed - a.dialed).Seconds()
		}
		recs = append(recs, r)
	}
	return recs
}

// Readers: each runs in its own goroutine, reads what the server sends
// until the connection ends and then finishes the attacker. They keep the
// first thing worth reporting.

func readCocaine(a *attacker) { readFrames(a, cocaineTold) }

func readRPC(a *attacker) { readFrames(a, rpcTold) }

// readFrames reads msgpack values until the connection ends, keeping the
// first that told describes.
func readFrames(a *attacker, told func(v any) string) {
	r := bufio.NewReaderSize(a.c, 256)
	first := ""
	for {
		v, err := readValue(r, 0)
		if err != nil {
			a.finish(errKind(err), first)
			return
		}
		if first == "" {
			first = told(v)
		}
	}
}

func readHTTP(a *attacker) {
	r := bufio.NewReaderSize(a.c, 1024)
	told := ""
	for {
		resp, err := readHTTPResponse(r)
		if resp.line != "" && told == "" {
			told = resp.line
		}
		if err != nil {
			a.finish(errKind(err), told)
			return
		}
	}
}
