//go:build linux && !race

package main

import (
	"bytes"
	"net"
	"runtime"
	"testing"

	"github.com/tokamak-io/tokamak/codec/mpack"
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

// fixedServer serves requests of size bytes each, answering each with
// answer(dst, request) appended to dst; it allocates nothing per request.
func fixedServer(t *testing.T, size int, answer func(dst, req []byte) []byte) string {
	return rawServer(t, func(c net.Conn) {
		buf := make([]byte, 64<<10)
		out := make([]byte, 0, 256<<10)
		have := 0
		for {
			n, err := c.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			out = out[:0]
			k := 0
			for ; have-k >= size; k += size {
				out = answer(out, buf[k:k+size])
			}
			have = copy(buf, buf[k:have])
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	})
}

// Nor do they for MessagePack-RPC or Cocaine calls, closed or open loop.
func TestEpollRPCAllocatesNothingPerCall(t *testing.T) {
	m := newMsgpackRPC("echo", 64, 16, true)
	str := len(m.req) - len(mpack.AppendStrBytes(nil, m.payload)) // where the payload starts
	mrpc := fixedServer(t, len(m.req), func(dst, req []byte) []byte {
		dst = append(dst, 0x94, 0x01)
		dst = append(dst, req[m.idOff-1:m.idOff+4]...) // ce and the msgid
		dst = append(dst, 0xc0)
		return append(dst, req[str:]...)
	})
	// A Cocaine call's chunk and choke, sent back, are the stream echo's
	// answer.
	p := newCocaine("echo", 64, 16, true)
	coc := fixedServer(t, len(p.req), func(dst, req []byte) []byte { return append(dst, req[p.chOff[1]-2:]...) })
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"msgpackrpc", []string{"-pipeline", "16", "msgpackrpc://" + mrpc}},
		{"cocaine", []string{"-pipeline", "16", "cocaine://" + coc}},
		{"msgpackrpc -rate", []string{"-pipeline", "4", "-rate", "100000", "msgpackrpc://" + mrpc}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mallocs := func(n string) uint64 {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				res, code := runLoad(t, append([]string{"-engine", "epoll", "-threads", "1", "-c", "4", "-n", n}, tc.args...)...)
				runtime.ReadMemStats(&after)
				if code != 0 || res.Errors.total() != 0 {
					t.Fatalf("exit %d, %+v", code, res)
				}
				return after.Mallocs - before.Mallocs
			}
			mallocs("1600")
			short, long := mallocs("8000"), mallocs("80000")
			t.Logf("%d allocations for 8000 calls, %d for 80000", short, long)
			if long > short+200 {
				t.Errorf("%d allocations for 80000 calls, %d for 8000: want no more", long, short)
			}
		})
	}
}
