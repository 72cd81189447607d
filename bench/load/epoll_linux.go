package main

import (
	"fmt"
	"net"
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
	for i := range ls {
		l, err := newLoop(cfg, sh, base, cfg.conns/n+btoi(i < cfg.conns%n))
		if err != nil {
			for _, l := range ls[:i] {
				l.close()
			}
			return nil, nil, err
		}
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

func newLoop(cfg *config, sh *shared, base time.Time, conns int) (*loop, error) {
	l := &loop{cfg: cfg, sh: sh, m: newMeter(), base: base, epfd: -1, wake: -1}
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
	for i := range l.conns {
		l.conns[i].fd = -1
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

// conn is one connection of a loop.
type conn struct {
	fd       int
	state    int
	pc       protoConn
	out      []byte // the unwritten rest of the current batch
	in       []byte // the start of a response that one read did not complete
	sent     uint64 // requests written (or being written) on this socket
	answered uint64 // responses counted on this socket
	sentAt   int64  // when the current batch was written, ns since loop.base
	deadline int64  // when the current batch or the connect times out
	retryAt  int64  // when a closed connection is dialled again; 0: never
	wantOut  bool   // EPOLLOUT is registered
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
	now := l.now()
	for i := range l.conns {
		l.dial(i, now)
	}
	l.nextScan = now + int64(scanEvery)
	msec := 0
	for {
		n := l.wait(msec)
		if l.sh.stopped.Load() {
			return
		}
		// Poll again at once while events come; sleep when they stop, but
		// not past the next scan.
		msec = 0
		if n == 0 {
			msec = int(scanEvery / time.Millisecond)
		}
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
// to msec milliseconds. A poll that cannot block is a raw system call,
// which skips telling the scheduler that the thread may block; only a
// wait that can sleep goes through Syscall6 and lets the P go.
func (l *loop) wait(msec int) int {
	var n uintptr
	var errno unix.Errno
	ev, size := uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events))
	if msec == 0 {
		n, _, errno = unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd), ev, size, 0, 0, 0)
	} else {
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
// outstanding.
func (l *loop) drained() bool {
	for i := range l.conns {
		c := &l.conns[i]
		if c.state == connConnecting || c.state == connOpen && c.sent > c.answered {
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
	*c = conn{fd: -1, in: c.in[:0]}
	if !l.more() {
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
	l.send(i, now)
}

// send writes connection i's next batch, if the run wants one.
func (l *loop) send(i int, now int64) {
	c := &l.conns[i]
	depth := l.cfg.pipeline
	if l.cfg.requests > 0 {
		left := l.sh.budget.Add(-int64(depth))
		if left < 0 {
			depth += int(left)
		}
	}
	if depth <= 0 || l.sh.stopped.Load() {
		l.watchOut(i, false)
		return
	}
	c.out = c.pc.requests(c.sent, depth)
	c.sent += uint64(depth)
	c.sentAt = now
	c.deadline = now + int64(l.cfg.timeout)
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
	lat := time.Duration(now - c.sentAt)
	got := 0
	for len(b) > 0 {
		r := &l.reply
		size, err := c.pc.parse(b, r)
		if err == errIncomplete {
			break
		}
		if err != nil || r.seq >= c.sent { // garbage, or an answer to nothing sent
			l.m.record(lat, got)
			l.drop(i, errProtocol, now)
			return false
		}
		b = b[size:]
		got++
		c.answered++
		l.m.bytes += uint64(size)
		l.m.statuses[r.status]++
		if r.status/100 != l.cfg.expect {
			l.m.fail(errStatus)
		}
		if r.close {
			l.m.record(lat, got)
			kind := -1
			if c.sent > c.answered {
				kind = errClosed // answered part of the batch, then closed
			}
			l.drop(i, kind, now)
			return false
		}
	}
	l.m.record(lat, got)
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
	if c.answered == c.sent {
		l.send(i, now) // the next batch goes out with no wait for writability
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
