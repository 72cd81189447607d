package main

import (
	"fmt"
	"math"
	"math/bits"
	"net"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() { engines["epoll"] = runLoops }

// runLoops is the event-loop engine: cfg.threads goroutines, each with its
// own epoll instance, read buffer and meter, drive the connections dealt to
// them in turn.
func runLoops(cfg *config, sh *shared) ([]*meter, <-chan struct{}, error) {
	n := cfg.threads
	ms := make([]*meter, n)
	ls := make([]*loop, n)
	base := time.Now()
	first := 0 // the run-wide index of the loop's first connection
	for i := range ls {
		l, err := newLoop(cfg, sh, base, first, cfg.conns/n+btoi(i < cfg.conns%n))
		if err != nil {
			for _, l := range ls[:i] {
				l.close()
			}
			return nil, nil, err
		}
		first += len(l.conns)
		ls[i], ms[i] = l, l.m
	}
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(l.run)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	go func() {
		// Wake the loops blocked in epoll_wait at the end of the run. The
		// eventfds are closed here, after the last write to them, so that
		// no write can reach a reused descriptor.
		select {
		case <-sh.stop:
			one := [8]byte{1}
			for _, l := range ls {
				unix.Write(l.wake, one[:])
			}
		case <-done:
		}
		<-done
		for _, l := range ls {
			l.close()
		}
	}()
	return ms, done, nil
}

func newLoop(cfg *config, sh *shared, base time.Time, first, conns int) (*loop, error) {
	l := &loop{cfg: cfg, sh: sh, m: newMeter(cfg.rate > 0), base: base, epfd: -1, wake: -1, first: first}
	var err error
	if l.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if l.wake, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		l.close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, l.wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeSlot}); err != nil {
		l.close()
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	l.conns = make([]conn, conns)
	ws := windowSize(cfg.pipeline)
	slots := make([]slot, conns*ws)
	for i := range l.conns {
		l.conns[i].fd = -1
		l.conns[i].win = newWindow(slots[i*ws : (i+1)*ws : (i+1)*ws])
	}
	l.nextDue = math.MaxInt64
	if cfg.rate > 0 {
		l.nextDue = l.dueAt(0, 0)
		l.ready = make([]int, 0, conns)
	}
	l.buf = make([]byte, maxResponse)
	l.sa, l.family = sockaddr(cfg.raddr)
	return l, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Connection states.
const (
	connClosed     = iota // no socket; dialled again at retryAt when that is set
	connConnecting        // connect in progress
	connOpen
)

// conn is one connection of a loop: a socket at a time, and its share of
// the schedule with -rate, which outlives its sockets.
type conn struct {
	fd       int
	state    int
	pc       protoConn
	win      window // the requests in flight on this socket
	out      []byte // the unwritten rest of the current batch
	in       []byte // the start of a response that one read did not complete
	sent     uint64 // requests written (or being written) on this socket
	answered uint64 // responses counted on this socket
	deadline int64  // when the requests in flight time out: -timeout after their write, or after the last answer with -rate or refill; or the connect
	retryAt  int64  // when a closed connection is dialled again; 0: never
	wantOut  bool   // EPOLLOUT is registered

	// With -rate.
	started bool   // it has connected once: the schedule counts requests for it
	ready   bool   // it is in loop.ready
	round0  uint64 // the schedule's round of its first request
	due     uint64 // requests the schedule gave it, over all its sockets
	issued  uint64 // of those, the ones written
}

// loop is one event loop. Everything in it belongs to its goroutine; the
// shared budget and stop flag are atomics, the meter has its own rules.
type loop struct {
	cfg      *config
	sh       *shared
	m        *meter
	base     time.Time // the origin of the loop's clock
	epfd     int
	wake     int // an eventfd written at the end of the run
	conns    []conn
	buf      []byte // where reads land; a partial response is copied out to its conn
	events   [256]unix.EpollEvent
	nextScan int64
	sa       unix.Sockaddr // the server's address
	family   int
	reply    reply // where parse reports; a local would escape through the interface

	// The open-loop schedule (-rate): request e of the run (e = 0, 1, …) is
	// due at e/rate seconds after base and goes to connection e mod -c,
	// so each connection has its requests at a fixed interval, the
	// connections staggered evenly within it. A loop walks its own
	// connections' turns in time order: round, then turn within the round.
	first   int    // the run-wide index of conns[0]
	round   uint64 // the round of the next turn
	turn    int    // the connection whose turn is next
	nextDue int64  // when that turn is, ns since base; math.MaxInt64 when the schedule is over
	ready   []int  // connections given requests by the turns just taken
	ts      unix.Timespec
	noWait2 bool // epoll_pwait2 is missing: waits are in whole milliseconds
}

// scanEvery is how often a loop looks for timeouts and due reconnects; a
// timeout is noticed within this much of its time.
const scanEvery = 10 * time.Millisecond

// wakeSlot marks the eventfd's events; a connection's carry its index.
const wakeSlot = -1

// now reads the monotonic clock (time.Since reads only that), in ns since
// the loop's base.
func (l *loop) now() int64 { return int64(time.Since(l.base)) }

func (l *loop) run() {
	defer l.closeConns()
	if l.cfg.rate > 0 {
		// Turns are kept to the microsecond: the thread sleeps in
		// epoll_pwait2 with its timer slack (50 µs by default) cut to 1 ns.
		// The thread is the loop's alone and ends with it.
		runtime.LockOSThread()
		unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	}
	now := l.now()
	for i := range l.conns {
		l.dial(i, now)
	}
	l.nextScan = now + int64(scanEvery)
	poll := true
	for {
		// Poll again at once while events come; sleep when they stop, but
		// not past the next scan or turn of the schedule.
		var n int
		if poll {
			n = l.wait(0)
		} else {
			n = l.wait(min(l.nextScan, l.nextDue) - l.now())
		}
		if l.sh.stopped.Load() {
			return
		}
		poll = n > 0
		for _, ev := range l.events[:n] {
			if l.sh.stopped.Load() {
				return // count nothing past the end
			}
			if ev.Fd == wakeSlot {
				continue // the stop flag, checked above, said it all
			}
			l.event(int(ev.Fd), ev.Events)
		}
		now = l.now()
		if now >= l.nextDue {
			l.schedule(now)
		}
		if now >= l.nextScan {
			l.scan(now)
			l.nextScan = now + int64(scanEvery)
		}
		if l.cfg.requests > 0 && l.sh.budget.Load() <= 0 && l.drained() {
			return
		}
	}
}

// wait returns the number of events epoll_wait put in l.events, waiting up
// to ns nanoseconds. A poll that cannot block is a raw system call, which
// skips telling the scheduler that the thread may block; only a wait that
// can sleep goes through Syscall6 and lets the P go. Without -rate a wait
// is in milliseconds (the scan's 10 ms); with it, to the nanosecond where
// the kernel has epoll_pwait2 (Linux 5.11), else rounded up to the next
// millisecond.
func (l *loop) wait(ns int64) int {
	var n uintptr
	var errno unix.Errno
	ev, size := uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events))
	switch {
	case ns <= 0:
		n, _, errno = unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd), ev, size, 0, 0, 0)
	case l.cfg.rate > 0 && !l.noWait2:
		l.ts = unix.NsecToTimespec(ns)
		n, _, errno = unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(l.epfd), ev, size, uintptr(unsafe.Pointer(&l.ts)), 0, 0)
		if errno == unix.ENOSYS {
			l.noWait2 = true
		}
	default:
		msec := (ns + int64(time.Millisecond) - 1) / int64(time.Millisecond)
		n, _, errno = unix.Syscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd), ev, size, uintptr(msec), 0, 0)
	}
	if errno != 0 {
		return 0 // EINTR
	}
	return int(n)
}

// read and send are raw system calls for the reason wait gives: the
// sockets are non-blocking.
func read(fd int, b []byte) (int, unix.Errno) {
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), errno
}

// send writes with MSG_NOSIGNAL: a peer that has gone yields EPIPE, not a
// SIGPIPE.
func send(fd int, b []byte) (int, unix.Errno) {
	n, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_NOSIGNAL, 0, 0)
	return int(n), errno
}

// drained reports whether no connection has a request or a connect
// outstanding, or (-rate) a request due and not yet written.
func (l *loop) drained() bool {
	for i := range l.conns {
		c := &l.conns[i]
		if c.state == connConnecting || c.state == connOpen && (c.sent > c.answered || c.due > c.issued) {
			return false
		}
	}
	return true
}

// more reports whether the run wants another batch or connection.
func (l *loop) more() bool {
	return !l.sh.stopped.Load() && (l.cfg.requests == 0 || l.sh.budget.Load() > 0)
}

// dial opens connection i's socket and starts connecting it. A failure
// counts as a connect error and is retried after a pause.
func (l *loop) dial(i int, now int64) {
	c := &l.conns[i]
	c.fd, c.state, c.pc = -1, connClosed, nil
	c.out, c.in = nil, c.in[:0]
	c.sent, c.answered, c.deadline, c.retryAt, c.wantOut = 0, 0, 0, 0, false
	c.win.reset()
	if !l.more() && c.due == c.issued {
		return
	}
	fd, err := unix.Socket(l.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.m.fail(errConnect)
		c.retryAt = now + int64(retryPause)
		return
	}
	c.fd = fd
	// Requests go out at once, as each batch is one write anyway.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	err = unix.Connect(fd, l.sa)
	if err != nil && err != unix.EINPROGRESS {
		l.failConnect(c, now)
		return
	}
	// Writable means connected (or failed); readable then means responses.
	if unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT, Fd: int32(i)}) != nil {
		l.failConnect(c, now)
		return
	}
	c.wantOut = true
	c.state = connConnecting
	c.deadline = now + int64(l.cfg.timeout)
	c.pc = l.cfg.proto.conn()
}

func sockaddr(a *net.TCPAddr) (unix.Sockaddr, int) {
	if ip4 := a.IP.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: a.Port}
		copy(sa.Addr[:], ip4)
		return sa, unix.AF_INET
	}
	sa := &unix.SockaddrInet6{Port: a.Port}
	copy(sa.Addr[:], a.IP.To16())
	if a.Zone != "" {
		if ifi, err := net.InterfaceByName(a.Zone); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa, unix.AF_INET6
}

func (l *loop) failConnect(c *conn, now int64) {
	if !l.sh.stopped.Load() {
		l.m.fail(errConnect)
	}
	l.closeConn(c)
	c.retryAt = now + int64(retryPause)
}

func (l *loop) closeConn(c *conn) {
	if c.fd >= 0 {
		unix.Close(c.fd) // which also takes it out of the epoll set
	}
	c.fd, c.state = -1, connClosed
}

// drop closes connection i, counting kind unless it is -1 or the run is
// over, and dials again.
func (l *loop) drop(i, kind int, now int64) {
	if kind >= 0 && !l.sh.stopped.Load() {
		l.m.fail(kind)
	}
	l.closeConn(&l.conns[i])
	l.dial(i, now)
}

func (l *loop) event(i int, events uint32) {
	c := &l.conns[i]
	switch c.state {
	case connConnecting:
		l.connected(i)
	case connOpen:
		if events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP) != 0 && !l.read(i) {
			return
		}
		if events&unix.EPOLLOUT != 0 && len(c.out) > 0 {
			l.flush(i)
			switch {
			case c.state != connOpen || len(c.out) > 0:
			case l.cfg.rate > 0:
				l.sendDue(i, l.now()) // what came due while the write waited
			case l.cfg.refill:
				l.send(i, l.now()) // what was answered while the write waited
			}
		}
	}
}

// connected finishes a connect that epoll reported on.
func (l *loop) connected(i int) {
	c := &l.conns[i]
	now := l.now()
	if e, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || e != 0 {
		l.failConnect(c, now)
		return
	}
	c.state = connOpen
	if l.cfg.rate == 0 {
		l.send(i, now)
		return
	}
	if !c.started {
		// Its schedule starts with its next turn: the requests of its
		// turns before are not counted.
		c.started = true
		c.round0 = l.round
		if i < l.turn {
			c.round0++
		}
	}
	l.sendDue(i, now)
}

// send writes connection i's next requests in the closed loop, if the run
// wants more: a batch of -pipeline once the last one is answered, or with
// cfg.refill as many as bring it back to -pipeline in flight. It waits
// while a write is unfinished.
func (l *loop) send(i int, now int64) {
	c := &l.conns[i]
	inflight := int(c.sent - c.answered)
	if len(c.out) > 0 || inflight > 0 && !l.cfg.refill {
		return
	}
	depth := l.cfg.pipeline - inflight
	for k := range depth {
		if !c.win.free(c.sent + uint64(k)) {
			depth = k // one a window before is still in flight
			break
		}
	}
	if l.cfg.requests > 0 && depth > 0 {
		left := l.sh.budget.Add(-int64(depth))
		if left < 0 {
			depth += int(max(left, -int64(depth)))
		}
	}
	if depth <= 0 || l.sh.stopped.Load() {
		l.watchOut(i, false)
		return
	}
	c.out = c.pc.requests(c.sent, depth)
	for k := range uint64(depth) {
		c.win.put(c.sent+k, now, now)
	}
	c.sent += uint64(depth)
	if inflight == 0 {
		c.deadline = now + int64(l.cfg.timeout)
	}
	l.flush(i)
}

// dueAt is the time of turn k (of the loop's connections) in round r, ns
// since base: (r·conns + first + k) / rate seconds.
func (l *loop) dueAt(r uint64, k int) int64 {
	e := r*uint64(l.cfg.conns) + uint64(l.first+k)
	hi, lo := bits.Mul64(e, uint64(time.Second))
	if hi >= uint64(l.cfg.rate) {
		return math.MaxInt64 // past 2^64 ns
	}
	t, _ := bits.Div64(hi, lo, uint64(l.cfg.rate))
	return int64(min(t, math.MaxInt64))
}

// schedule takes the turns due by now: each gives a request to its
// connection, if that one has started, and the connections given some
// write what their window allows. Turns the loop was late for are taken
// all at once, and their requests keep the times the schedule gave them.
func (l *loop) schedule(now int64) {
	for l.nextDue <= now {
		c := &l.conns[l.turn]
		if c.started {
			if l.cfg.requests > 0 && l.sh.budget.Add(-1) < 0 {
				l.nextDue = math.MaxInt64 // -n requests given: the schedule is over
				break
			}
			c.due++
			l.m.scheduled++
			if !c.ready {
				c.ready = true
				l.ready = append(l.ready, l.turn)
			}
		}
		if l.turn++; l.turn == len(l.conns) {
			l.turn = 0
			l.round++
		}
		l.nextDue = l.dueAt(l.round, l.turn)
	}
	for _, i := range l.ready {
		l.conns[i].ready = false
		l.sendDue(i, now)
	}
	l.ready = l.ready[:0]
}

// sendDue writes as many of connection i's due requests as its window
// allows, in one write (open loop). It waits while a write is unfinished.
func (l *loop) sendDue(i int, now int64) {
	c := &l.conns[i]
	if c.state != connOpen || len(c.out) > 0 || l.sh.stopped.Load() {
		return
	}
	n := min(c.due-c.issued, uint64(l.cfg.pipeline)-(c.sent-c.answered))
	for k := range n {
		if !c.win.free(c.sent + k) {
			n = k // one a window before is still in flight
			break
		}
	}
	if n == 0 {
		return
	}
	c.out = c.pc.requests(c.sent, int(n))
	for k := range n {
		c.win.put(c.sent+k, now, l.dueAt(c.round0+c.issued+k, i))
	}
	if c.sent == c.answered {
		c.deadline = now + int64(l.cfg.timeout)
	}
	c.sent += n
	c.issued += n
	l.m.issued += n
	l.flush(i)
}

// flush writes what it can of connection i's batch and watches for room
// for the rest.
func (l *loop) flush(i int) {
	c := &l.conns[i]
	n, errno := send(c.fd, c.out)
	switch errno {
	case 0:
		c.out = c.out[n:]
	case unix.EAGAIN:
	default:
		l.drop(i, errClosed, l.now())
		return
	}
	l.watchOut(i, len(c.out) > 0)
}

// watchOut registers connection i for writability, or stops.
func (l *loop) watchOut(i int, on bool) {
	c := &l.conns[i]
	if c.wantOut == on {
		return
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}
	if on {
		ev.Events |= unix.EPOLLOUT
	}
	if unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev) != nil {
		l.drop(i, errClosed, l.now())
		return
	}
	c.wantOut = on
}

// read makes one read from connection i and counts the responses it
// completes. It reports whether the connection is still the same one.
func (l *loop) read(i int) bool {
	c := &l.conns[i]
	var (
		b     []byte
		n     int
		errno unix.Errno
	)
	if len(c.in) > 0 {
		// A response began in an earlier read: read after it, so that it
		// is parsed whole.
		if len(c.in) == maxResponse {
			l.drop(i, errProtocol, l.now()) // a response larger than the buffer
			return false
		}
		if want := min(2*len(c.in), maxResponse); cap(c.in) < want {
			c.in = append(make([]byte, 0, want), c.in...)
		}
		n, errno = read(c.fd, c.in[len(c.in):cap(c.in)])
		b = c.in[:len(c.in)+max(n, 0)]
	} else {
		n, errno = read(c.fd, l.buf)
		b = l.buf[:max(n, 0)]
	}
	if errno == unix.EAGAIN {
		return true
	}
	now := l.now() // when every response this read completes was received
	if errno != 0 || n == 0 {
		kind := -1 // a close between batches is the server's right
		if c.sent > c.answered {
			kind = errClosed
		}
		l.drop(i, kind, now)
		return false
	}
	// In the closed loop answers are recorded by runs that share a write
	// (and so a latency): a batch, or what one refill wrote.
	open := l.cfg.rate > 0
	var runSent int64
	run := 0
	for len(b) > 0 {
		r := &l.reply
		size, err := c.pc.parse(b, r)
		if err == errIncomplete {
			break
		}
		if err != nil {
			l.m.record(time.Duration(now-runSent), run)
			l.drop(i, errProtocol, now) // garbage, or a wrong answer
			return false
		}
		b = b[size:]
		l.m.bytes += uint64(size)
		if !r.none {
			s, ok := c.win.take(r.seq)
			if !ok { // an answer to nothing in flight
				l.m.record(time.Duration(now-runSent), run)
				l.drop(i, errProtocol, now)
				return false
			}
			c.answered++
			switch {
			case open:
				l.m.recordOpen(now-s.due, now-s.sent)
			case s.sent == runSent:
				run++
			default:
				l.m.record(time.Duration(now-runSent), run)
				runSent, run = s.sent, 1
			}
			l.m.statuses[r.status]++
			if r.status != 0 && r.status/100 != l.cfg.expect {
				l.m.fail(errStatus)
			}
			if r.rpcErr {
				l.m.fail(errRPC)
			}
		}
		if r.close {
			l.m.record(time.Duration(now-runSent), run)
			kind := -1
			if c.sent > c.answered {
				kind = errClosed // answered part of the batch, then closed
			}
			l.drop(i, kind, now)
			return false
		}
	}
	l.m.record(time.Duration(now-runSent), run)
	switch {
	case len(b) == 0:
		c.in = c.in[:0]
	case len(c.in) > 0: // b is the tail of c.in
		c.in = c.in[:copy(c.in[:cap(c.in)], b)]
	default:
		if cap(c.in) < len(b) {
			// Room to read the rest of the response after its start; it
			// doubles as needed up to maxResponse.
			c.in = make([]byte, 0, min(max(2*len(b), 4096), maxResponse))
		}
		c.in = append(c.in[:0], b...)
	}
	if (open || l.cfg.refill) && c.sent > c.answered {
		c.deadline = now + int64(l.cfg.timeout) // an answer came: time the next
	}
	if open {
		l.sendDue(i, now)
	} else {
		l.send(i, now) // the next requests go out with no wait for writability
	}
	return true
}

// scan times out batches and connects, and dials closed connections that
// are due.
func (l *loop) scan(now int64) {
	for i := range l.conns {
		c := &l.conns[i]
		switch c.state {
		case connClosed:
			if c.retryAt != 0 && now >= c.retryAt {
				l.dial(i, now)
			}
		case connConnecting:
			if now >= c.deadline {
				l.failConnect(c, now)
			}
		case connOpen:
			if c.sent > c.answered && now >= c.deadline {
				l.drop(i, errTimeout, now)
			}
		}
	}
}

func (l *loop) closeConns() {
	for i := range l.conns {
		l.closeConn(&l.conns[i])
	}
}

// close closes the loop's epoll instance and eventfd, once its goroutine
// is done.
func (l *loop) close() {
	if l.wake >= 0 {
		unix.Close(l.wake)
	}
	if l.epfd >= 0 {
		unix.Close(l.epfd)
	}
}
