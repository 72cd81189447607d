package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// dialer opens client connections to 127.0.0.1, spreading them over the
// source addresses 127.0.0.1, 127.0.0.2, …: each source has its own 28,000
// ephemeral ports (32768–60999) towards one server port. The port is picked
// at connect, not at bind (IP_BIND_ADDRESS_NO_PORT), so that binding the
// source address does not reserve a port against every destination.
type dialer struct {
	sources []net.IP
	next    atomic.Uint32
}

func newDialer(sources int) *dialer {
	d := &dialer{}
	for i := range max(sources, 1) {
		d.sources = append(d.sources, net.IPv4(127, 0, 0, byte(1+i)))
	}
	return d
}

// dial connects to addr within timeout. rcvbuf > 0 sets SO_RCVBUF before
// connect, so that the window the client offers is small from the SYN on
// (the kernel doubles the value and applies its minimum).
func (d *dialer) dial(ctx context.Context, addr string, timeout time.Duration, rcvbuf int) (*net.TCPConn, error) {
	src := d.sources[int(d.next.Add(1))%len(d.sources)]
	nd := net.Dialer{
		Timeout:   timeout,
		LocalAddr: &net.TCPAddr{IP: src},
		KeepAlive: -1, // no keep-alive probes: the attackers' traffic is exactly what they write
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
				if serr == nil && rcvbuf > 0 {
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
				}
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
	c, err := nd.DialContext(ctx, "tcp4", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// errKind names how a read, write or dial ended, for the counts of the
// report: fin (the peer closed), reset, timeout, refused, or the error.
func errKind(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "fin"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no local port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "client out of descriptors"
	case errors.Is(err, net.ErrClosed):
		return "closed"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// tcpState returns the kernel's TCP state of c (unix.BPF_TCP_ESTABLISHED …),
// or -1.
func tcpState(c *net.TCPConn) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1
	}
	st := -1
	_ = rc.Control(func(fd uintptr) {
		if ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			st = int(ti.State)
		}
	})
	return st
}

// tcpStateName names the states a client socket can reach here.
func tcpStateName(st int) string {
	switch st {
	case unix.BPF_TCP_ESTABLISHED:
		return "established"
	case unix.BPF_TCP_CLOSE_WAIT:
		return "fin"
	case unix.BPF_TCP_CLOSE:
		return "reset"
	case -1:
		return "unknown"
	}
	return "tcp state " + strconv.Itoa(st)
}

// raiseNofile raises RLIMIT_NOFILE to its hard limit; the server inherits
// it (Setrlimit also stops os/exec from restoring the original soft limit
// in children). It returns the limit now in force.
func raiseNofile() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return rl.Cur, nil
}
