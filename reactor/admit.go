package reactor

import "net"

// shareSlots sets each listener's share of the connection cap: its own
// cap (Listener.MaxConns, at most the server's) and the slots reserved
// for it (Listener.Reserve), which the other listeners cannot take.
// Called once at Run, before any connection.
func (s *Server) shareSlots() {
	total := s.maxConns.Load()
	n := int64(len(s.lns))
	var reserved int64
	for _, ln := range s.lns {
		ln.max = total
		if ln.MaxConns > 0 {
			ln.max = min(int64(ln.MaxConns), total)
		}
		switch {
		case ln.Reserve > 0:
			ln.reserve = int64(ln.Reserve)
		case ln.Reserve == 0 && n > 1:
			ln.reserve = total / (4 * n)
		default:
			ln.reserve = 0
		}
		ln.reserve = min(ln.reserve, ln.max)
		reserved += ln.reserve
	}
	// Reserves past half the cap would leave too little to share: scale
	// them down together.
	if half := total / 2; reserved > half {
		for _, ln := range s.lns {
			ln.reserve = ln.reserve * half / reserved
		}
	}
}

// admit takes a connection slot for a connection accepted on ln and
// reports true, or reports false, taking nothing, when ln is at its own
// cap or the server has no slot left that is not reserved for another
// listener. Called on any loop; the counts are atomic, so two loops
// admitting at once may both see the last slot: each checks after adding
// itself and backs out, so neither bound is passed.
func (s *Server) admit(ln *listener) bool {
	if ln.open.Add(1) > ln.max {
		ln.open.Add(-1)
		return false
	}
	if s.open.Add(1)+s.reservedForOthers(ln) > s.maxConns.Load() {
		s.open.Add(-1)
		ln.open.Add(-1)
		return false
	}
	return true
}

// leave gives back the slot of a connection of ln.
func (s *Server) leave(ln *listener) int64 {
	ln.open.Add(-1)
	return s.open.Add(-1)
}

// reservedForOthers is the number of slots reserved for the listeners
// other than ln and not in use by them.
func (s *Server) reservedForOthers(ln *listener) int64 {
	var n int64
	for _, o := range s.lns {
		if o != ln && o.reserve > 0 {
			n += max(o.reserve-o.open.Load(), 0)
		}
	}
	return n
}

// listenerFor finds the listener a connection came in on, by the local
// address gnet reports for it: the listener's own.
func (s *Server) listenerFor(a net.Addr) (*listener, uint8) {
	port := 0
	if ta, ok := a.(*net.TCPAddr); ok {
		port = ta.Port
	}
	for i, ln := range s.lns {
		if ln.port == port {
			return ln, uint8(i)
		}
	}
	return s.lns[0], 0
}
