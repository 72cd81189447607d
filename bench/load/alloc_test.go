//go:build linux && !race

package main

import (
	"bytes"
	"net"
	"runtime"
	"testing"
)

// The event loops allocate nothing per request: a run ten times longer
// allocates no more, to within a small allowance for the runtime's own.
func TestEpollAllocatesNothingPerRequest(t *testing.T) {
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!")
	answers := bytes.Repeat(answer, 16)
	// A server that allocates nothing per request either, so that what
	// is counted is the client's.
	addr := rawServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		have := 0 // the start of a request the last read split
		for {
			n, err := c.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			k := bytes.Count(buf[:have], []byte("\r\n\r\n"))
			if i := bytes.LastIndex(buf[:have], []byte("\r\n\r\n")); i >= 0 {
				have = copy(buf, buf[i+4:have])
			}
			for ; k > 0; k -= min(k, 16) {
				if _, err := c.Write(answers[:min(k, 16)*len(answer)]); err != nil {
					return
				}
			}
		}
	})
	mallocs := func(n string) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, code := runLoad(t, "-engine", "epoll", "-threads", "1", "-c", "4", "-pipeline", "16", "-n", n, "http://"+addr+"/")
		runtime.ReadMemStats(&after)
		if code != 0 || res.Errors.total() != 0 {
			t.Fatalf("exit %d, %+v", code, res)
		}
		return after.Mallocs - before.Mallocs
	}
	mallocs("1600") // warm up: first-use allocations of the runtime
	short, long := mallocs("16000"), mallocs("160000")
	t.Logf("%d allocations for 16000 requests, %d for 160000", short, long)
	if long > short+200 {
		t.Errorf("%d allocations for 160000 requests, %d for 16000: want no more", long, short)
	}
}
