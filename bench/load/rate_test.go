package main

import (
	"bytes"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stalling serves HTTP requests at once, except that it holds the answer
// to the at-th request it reads (counted over all connections, from 1)
// for stall.
func stalling(at int64, stall time.Duration) func(c net.Conn) {
	var count atomic.Int64
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	return func(c net.Conn) {
		readHeads(c, func(k int) bool {
			for range k {
				if count.Add(1) == at {
					time.Sleep(stall)
				}
				if _, err := c.Write(answer); err != nil {
					return false
				}
			}
			return true
		})
	}
}

// The open loop corrects for coordinated omission. One connection is to
// send a request every millisecond for a second; the server stalls 200 ms
// on the 300th. The requests of the ~200 turns during the stall cannot be
// sent (one in flight at a time) and go out late, at once after it: timed
// from their turns, as the open loop does, they take 200 ms down to ~0,
// a fifth of all requests, so the 99th percentile is near 200 ms and the
// 90th near 100 ms. Timed from their writes, as a closed loop would, one
// request took 200 ms and the others nothing: the stall is invisible
// below the maximum.
func TestCoordinatedOmission(t *testing.T) {
	addr := rawServer(t, stalling(300, 200*time.Millisecond))
	res, code := runLoad(t, "-c", "1", "-rate", "1000", "-d", "1s", "http://"+addr+"/")
	t.Logf("corrected %v, uncorrected %v, %d requests, %d scheduled, %d sent", res.Latency, res.Uncorrected,
		res.Requests, res.Scheduled, res.Sent)
	if code != 0 || res.Errors.total() != 0 || res.TargetRate != 1000 {
		t.Fatalf("exit %d, %+v", code, res)
	}
	if res.Requests < 900 || res.Scheduled < 950 || res.Sent < res.Requests || res.RateReached == nil || !*res.RateReached {
		t.Errorf("%d requests, %d scheduled, %d sent, reached %v: want about 1000", res.Requests, res.Scheduled, res.Sent, res.RateReached)
	}
	c, u := res.Latency, res.Uncorrected
	switch {
	case c["max"] < 195_000 || u["max"] < 195_000:
		t.Errorf("max %d µs corrected, %d µs uncorrected: want the stall, 200 ms, in both", c["max"], u["max"])
	case c["p99"] < 150_000:
		t.Errorf("corrected p99 %d µs: want the requests due during the stall, near 200 ms", c["p99"])
	case c["p90"] < 50_000 || c["p90"] > 150_000:
		t.Errorf("corrected p90 %d µs: want about 100 ms", c["p90"])
	case u["p99"] > 50_000:
		t.Errorf("uncorrected p99 %d µs: want no trace of the stall", u["p99"])
	}
}

// In the open loop each answer is timed from its own request's turn, even
// when answers come out of order. The server holds the answer to the first
// call for 500 ms and answers the others at once; turns are 50 ms apart,
// so the calls of the ten turns during the hold pass it. Matched by msgid
// only the first call took long; matched in order of arrival, each answer
// during the hold would be charged to the turn before its own (50 ms).
func TestOpenLoopMatchesOutOfOrder(t *testing.T) {
	hold := func(w *syncWriter, calls []call) []byte {
		var out []byte
		for _, cl := range calls {
			if cl.id == 0 {
				time.AfterFunc(500*time.Millisecond, func() { w.Write(answerRPC(nil, false, cl, cl.param, "")) })
				continue
			}
			out = answerRPC(out, false, cl, cl.param, "")
		}
		return out
	}
	addr := rawServer(t, rpcServer{answer: hold}.serve)
	res, code := runLoad(t, "-c", "1", "-pipeline", "16", "-rate", "20", "-n", "30", rpcURL(false, addr))
	t.Logf("corrected %v, uncorrected %v", res.Latency, res.Uncorrected)
	if code != 0 || res.Requests != 30 || res.Errors.total() != 0 {
		t.Fatalf("exit %d, %+v", code, res)
	}
	if c := res.Latency; c["max"] < 490_000 || c["p90"] > 25_000 {
		t.Errorf("corrected latencies %v: want one of 500 ms, the others short", c)
	}
}

// With -n the open loop gives exactly that many requests to the schedule,
// at the rate, and answers them all.
func TestOpenLoopCount(t *testing.T) {
	addr := rawServer(t, answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0))
	start := time.Now()
	res, code := runLoad(t, "-c", "3", "-pipeline", "2", "-rate", "2000", "-n", "500", "http://"+addr+"/")
	took := time.Since(start)
	if code != 0 || res.Requests != 500 || res.Scheduled != 500 || res.Sent != 500 || res.Errors.total() != 0 {
		t.Fatalf("exit %d, %+v", code, res)
	}
	// 500 requests at 2000/s take 250 ms from the first turn.
	if took < 240*time.Millisecond || took > 2*time.Second {
		t.Errorf("took %v, want about 250ms", took)
	}
}

// A server slower than the rate: the run says the target was not reached,
// and the latency grows with the backlog.
func TestOpenLoopNotReached(t *testing.T) {
	slow := func(c net.Conn) {
		readHeads(c, func(k int) bool {
			for range k {
				time.Sleep(5 * time.Millisecond) // 200 answers a second at most
				if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")); err != nil {
					return false
				}
			}
			return true
		})
	}
	addr := rawServer(t, slow)
	res, code := runLoad(t, "-c", "1", "-rate", "1000", "-d", "500ms", "http://"+addr+"/")
	if code != 0 || res.RateReached == nil || *res.RateReached || res.ReqPerSec > 300 || res.Scheduled < 400 || res.Sent > 150 {
		t.Fatalf("exit %d, %+v: want the target missed", code, res)
	}
	if res.Latency["max"] < 200_000 {
		t.Errorf("corrected max %d µs: want the backlog's wait", res.Latency["max"])
	}
	var out, errOut bytes.Buffer
	run([]string{"-progress=false", "-c", "1", "-rate", "1000", "-d", "200ms", "http://" + addr + "/"}, &out, &errOut)
	if !strings.Contains(out.String(), "target rate not reached") {
		t.Errorf("output %q: want it to say the target was not reached", out.String())
	}
}

// A connection that could not connect has no schedule; one that drops
// keeps its schedule, and the requests due meanwhile go out late on the
// next connection, charged with the wait.
func TestOpenLoopReconnects(t *testing.T) {
	var n atomic.Int64
	addr := rawServer(t, func(c net.Conn) {
		if n.Add(1) == 1 {
			time.Sleep(100 * time.Millisecond) // the first connection hangs, then closes
			return
		}
		answering("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0)(c)
	})
	res, code := runLoad(t, "-c", "1", "-rate", "500", "-d", "600ms", "-timeout", "5s", "-max-errors", "1", "http://"+addr+"/")
	t.Logf("%+v", res)
	if code != 0 || res.Errors.Closed != 1 || res.Requests < 230 {
		t.Fatalf("exit %d, %+v", code, res)
	}
	if res.Latency["max"] < 90_000 {
		t.Errorf("corrected max %d µs: want the 100 ms the first connection held", res.Latency["max"])
	}
}

// Whether a run reached its rate is read from the turns that came: the
// requests written and answered, allowing for the answers a server that
// keeps up still owes at the end (those of the last 50 ms, at most the
// window). The first shape is a CI run that was called short: c4 × 4 at
// 4,000/s for 506 ms, 2,004 turns, 1,996 written, 1,988 answered (98.2% of
// the rate a second). The wide windows are a slow server hiding its
// backlog: c256 × 16 holds 4,096 requests. With -n every request is
// written and answered in the end, so there the answers a second decide.
func TestRateReached(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		conns, pipeline           int
		rate, requests            int64
		scheduled, sent, answered uint64
		elapsed                   time.Duration
		want                      bool
	}{
		{"-d, in flight at the end", 4, 4, 4000, 0, 2004, 1996, 1988, 506 * time.Millisecond, true},
		{"-d, writes behind", 4, 4, 4000, 0, 2004, 1900, 1890, 506 * time.Millisecond, false},
		{"-d, wide window, 91% answered", 256, 16, 50000, 0, 50000, 49500, 45404, time.Second, false},
		{"-d, wide window, 99.5% answered", 256, 16, 50000, 0, 50000, 50000, 49750, time.Second, true},
		{"-d, wide window, nothing answered", 256, 16, 4000, 0, 4000, 4000, 0, time.Second, false},
		{"-n, on time", 4, 4, 4000, 2000, 2000, 2000, 2000, 503 * time.Millisecond, true},
		{"-n, slow answers", 4, 4, 4000, 2000, 2000, 2000, 2000, 800 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMeter(true)
			m.scheduled, m.issued = tc.scheduled, tc.sent
			m.requests.Store(tc.answered)
			cfg := &config{conns: tc.conns, pipeline: tc.pipeline, rate: tc.rate, requests: tc.requests}
			res := merge(cfg, []*meter{m}, newHist(), newHist(), tc.elapsed)
			if res.RateReached == nil || *res.RateReached != tc.want {
				t.Fatalf("%+v: rate reached %v, want %v", res, res.RateReached, tc.want)
			}
		})
	}
}
