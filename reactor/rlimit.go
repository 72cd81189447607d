package reactor

import "golang.org/x/sys/unix"

// raiseFileLimit raises the RLIMIT_NOFILE soft limit to the hard limit and
// returns the soft limit in force.
func raiseFileLimit() (int, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		want := rl
		want.Cur = rl.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err == nil {
			rl = want
		} else {
			return int(rl.Cur), err
		}
	}
	return int(rl.Cur), nil
}

// connCap returns the connection cap for a descriptor limit: the limit less
// a reserve for what else the process holds (standard streams, the Go
// runtime's poller, and per loop a poller, its wake-up descriptor and one
// listener per address, plus 1/32 of the limit for files the process
// opens), so that accept never fails with EMFILE. want, when positive, lowers the cap.
func connCap(limit, loops, listeners, want int) int64 {
	if limit <= 0 {
		limit = 1024
	}
	reserve := 16 + loops*(2+listeners) + limit/32
	c := limit - reserve
	if c < 1 {
		c = 1
	}
	if want > 0 && want < c {
		c = want
	}
	return int64(c)
}
