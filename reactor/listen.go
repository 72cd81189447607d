package reactor

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// reserve resolves a listener's address. For port 0 it binds a socket with
// SO_REUSEPORT to a free port and keeps it bound, not listening, until gnet's
// own SO_REUSEPORT listeners hold the port: a bound socket that does not
// listen receives no connections, and every loop's listener then gets the
// same port instead of a different free one each.
func reserve(l Listener) (*listener, error) {
	ln := &listener{Listener: l, probe: -1}
	ta, err := net.ResolveTCPAddr("tcp", l.Addr)
	if err != nil {
		return ln, fmt.Errorf("reactor: listen %s: %w", l.Addr, err)
	}
	ln.port = ta.Port
	if ta.Port == 0 {
		fd, port, err := bindProbe(ta)
		if err != nil {
			return ln, fmt.Errorf("reactor: listen %s: %w", l.Addr, err)
		}
		ln.probe, ln.port = fd, port
	}
	ln.addr = &net.TCPAddr{IP: ta.IP, Port: ln.port, Zone: ta.Zone}
	ln.name = ln.addr.String()
	return ln, nil
}

// bindProbe binds a socket the way gnet will bind its listeners: IPv4 for an
// IPv4 address, IPv6 otherwise (dual-stack when no address is given).
func bindProbe(ta *net.TCPAddr) (fd, port int, err error) {
	family := unix.AF_INET6
	if ta.IP.To4() != nil {
		family = unix.AF_INET
	}
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, 0, err
	}
	fail := func(e error) (int, int, error) {
		unix.Close(fd)
		return -1, 0, e
	}
	if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fail(err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET {
		s4 := &unix.SockaddrInet4{}
		copy(s4.Addr[:], ta.IP.To4())
		sa = s4
	} else {
		if ta.IP != nil {
			if err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
				return fail(err)
			}
		}
		s6 := &unix.SockaddrInet6{}
		copy(s6.Addr[:], ta.IP.To16())
		sa = s6
	}
	if err = unix.Bind(fd, sa); err != nil {
		return fail(err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return fail(err)
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		port = a.Port
	case *unix.SockaddrInet6:
		port = a.Port
	}
	return fd, port, nil
}

func closeProbe(ln *listener) {
	if ln.probe >= 0 {
		unix.Close(ln.probe)
		ln.probe = -1
	}
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return h
}
