package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		head     bool
		status   int
		body     int
		close    bool
		err      error
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 200, 5, false, nil},
		{"no reason", "HTTP/1.1 204\r\n\r\n", false, 204, 0, false, nil},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n", false, 200, 8, false, nil},
		{"close", "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false, 404, 0, true, nil},
		{"1.0", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, 200, 0, true, nil},
		{"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false, 200, 0, false, nil},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, 200, 0, false, nil},
		{"garbage", "hello world\r\n\r\n", false, 0, 0, false, errMalformed},
		{"garbage, no end", "<html>", false, 0, 0, false, errMalformed},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", false, 0, 0, false, errMalformed},
		{"no length", "HTTP/1.1 200 OK\r\n\r\nbody", false, 0, 0, false, errMalformed},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", false, 0, 0, false, errMalformed},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 0, 0, false, errMalformed},
		{"chunk overrun", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n", false, 0, 0, false, errMalformed},
	} {
		var r response
		n, err := parseResponse([]byte(tc.in), tc.head, &r)
		if err != tc.err {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if n != len(tc.in) || r.status != tc.status || r.body != tc.body || r.close != tc.close {
			t.Errorf("%s: n=%d %+v, want n=%d status %d body %d close %v", tc.name, n, r, len(tc.in), tc.status, tc.body, tc.close)
		}
		// Every proper prefix is incomplete, never malformed or whole.
		for i := range len(tc.in) {
			if _, err := parseResponse([]byte(tc.in[:i]), tc.head, &r); err != errIncomplete {
				t.Errorf("%s: prefix of %d bytes: %v, want incomplete", tc.name, i, err)
				break
			}
		}
	}
}

// Every response a server may split anywhere; and a response that the
// buffer holds with the start of the next must take only its own bytes.
func TestParseResponseTakesOne(t *testing.T) {
	one := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	var r response
	n, err := parseResponse([]byte(one+one[:20]), false, &r)
	if err != nil || n != len(one) {
		t.Errorf("got n=%d, %v; want %d, nil", n, err, len(one))
	}
	if _, err := parseResponse([]byte("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"), false, &r); err != errMalformed {
		t.Errorf("bare LF: got %v, want %v", err, errMalformed)
	}
}

// FuzzParseResponse checks that a verdict on a buffer holds for the
// buffer with more bytes after it: a response never depends on what
// follows, and nothing beyond b is read.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), 3)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), 40)
	f.Add([]byte("HTTP/1.0 204\r\nConnection: keep-alive\r\n\r\n"), 0)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		var r response
		n, err := parseResponse(b, false, &r)
		if err == nil && (n <= 0 || n > len(b)) {
			t.Fatalf("n=%d of %d bytes", n, len(b))
		}
		if split < 0 || split > len(b) {
			return
		}
		// The prefix must not be whole unless the response ends within it.
		m, perr := parseResponse(b[:split], false, &r)
		switch {
		case perr == nil && (err != nil || m != n):
			t.Fatalf("prefix of %d: n=%d, whole: n=%d %v", split, m, n, err)
		case err == nil && split < n && perr != errIncomplete:
			t.Fatalf("prefix of %d: %v, want incomplete", split, perr)
		}
	})
}

func runLoad(t *testing.T, args ...string) (result, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"-json", "-progress=false"}, args...), &out, &errOut)
	var res result
	if code != 2 {
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("output %q: %v (stderr %q)", out.String(), err, errOut.String())
		}
	}
	return res, code
}

// forEngine runs test once with each engine built in.
func forEngine(t *testing.T, test func(t *testing.T, engine string)) {
	for _, name := range engineNames() {
		t.Run(name, func(t *testing.T) { test(t, name) })
	}
}

// rawServer serves each accepted connection with serve and returns its
// address.
func rawServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// readHeads reads request heads (without bodies) from c and calls fn with
// the number of heads each read completed, until c fails or fn returns
// false.
func readHeads(c net.Conn, fn func(heads int) bool) {
	buf := make([]byte, 4096)
	pending := ""
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		pending += string(buf[:n])
		k := strings.Count(pending, "\r\n\r\n")
		if k == 0 {
			continue
		}
		pending = pending[strings.LastIndex(pending, "\r\n\r\n")+4:]
		if !fn(k) {
			return
		}
	}
}

// answering serves every request head it reads with answer, written in
// pieces of at most piece bytes when piece > 0. Request bodies are not
// supported.
func answering(answer string, piece int) func(c net.Conn) {
	return func(c net.Conn) {
		readHeads(c, func(k int) bool {
			out := strings.Repeat(answer, k)
			for piece > 0 && len(out) > piece {
				if _, err := c.Write([]byte(out[:piece])); err != nil {
					return false
				}
				out = out[piece:]
				time.Sleep(50 * time.Microsecond)
			}
			_, err := c.Write([]byte(out))
			return err == nil
		})
	}
}

func TestClosedLoopAgainstNetHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello, World!")
	}))
	defer srv.Close()
	forEngine(t, func(t *testing.T, engine string) {
		res, code := runLoad(t, "-engine", engine, "-threads", "2", "-c", "5", "-pipeline", "8", "-n", "2003", srv.URL+"/x")
		if code != 0 || res.Requests != 2003 || res.Statuses["200"] != 2003 || res.Errors.total() != 0 {
			t.Fatalf("exit %d, %+v", code, res)
		}
		if res.Latency["p50"] <= 0 || res.Latency["max"] < res.Latency["p99"] {
			t.Errorf("latencies %v", res.Latency)
		}
		if res.BytesPerSec <= 0 || res.Engine != engine {
			t.Errorf("bytes/s %v, engine %q", res.BytesPerSec, res.Engine)
		}
	})
}

// Responses that arrive a few bytes at a time, chunked or not, are put
// together across reads.
func TestSplitResponses(t *testing.T) {
	for _, tc := range []struct {
		answer string
		piece  int
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!", 7},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n8\r\n, World!\r\n0\r\n\r\n", 7},
		// Larger than a first leftover buffer, so that it must grow.
		{"HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + strings.Repeat("x", 20000), 1999},
	} {
		addr := rawServer(t, answering(tc.answer, tc.piece))
		forEngine(t, func(t *testing.T, engine string) {
			res, code := runLoad(t, "-engine", engine, "-c", "2", "-pipeline", "3", "-n", "30", "http://"+addr+"/")
			if code != 0 || res.Requests != 30 || res.Errors.total() != 0 {
				t.Fatalf("exit %d, %+v", code, res)
			}
		})
	}
}

// A batch larger than the socket buffers is written in parts.
func TestLargeRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	}))
	defer srv.Close()
	body := strings.Repeat("b", 1<<20)
	forEngine(t, func(t *testing.T, engine string) {
		res, code := runLoad(t, "-engine", engine, "-c", "2", "-pipeline", "4", "-n", "16",
			"-method", "POST", "-body", body, srv.URL+"/")
		if code != 0 || res.Requests != 16 || res.Errors.total() != 0 {
			t.Fatalf("exit %d, %+v", code, res)
		}
	})
}

// A server may close after a response that says so; the tool reconnects.
func TestConnectionClose(t *testing.T) {
	addr := rawServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		if _, err := c.Read(buf); err == nil {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	forEngine(t, func(t *testing.T, engine string) {
		res, code := runLoad(t, "-engine", engine, "-c", "3", "-n", "60", "http://"+addr+"/")
		if code != 0 || res.Requests != 60 || res.Errors.total() != 0 {
			t.Fatalf("exit %d, %+v", code, res)
		}
	})
}

// A server that answers garbage, a wrong status, too much, too late or
// closes early gets errors, not speed.
func TestMisbehavingServers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(c net.Conn)
		kind  func(e errorCounts) uint64
	}{
		{"garbage", answering("this is not http\r\n\r\n", 0), func(e errorCounts) uint64 { return e.Protocol }},
		{"500", answering("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 0), func(e errorCounts) uint64 { return e.Status }},
		{"closes", func(c net.Conn) { c.Read(make([]byte, 4096)) }, func(e errorCounts) uint64 { return e.Closed }},
		{"huge", answering(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", maxResponse, strings.Repeat("x", maxResponse)), 0),
			func(e errorCounts) uint64 { return e.Protocol }},
		{"extra", answering("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0),
			func(e errorCounts) uint64 { return e.Protocol }},
		{"silent", func(c net.Conn) { io.Copy(io.Discard, c) }, func(e errorCounts) uint64 { return e.Timeout }},
	} {
		addr := rawServer(t, tc.serve)
		t.Run(tc.name, func(t *testing.T) {
			forEngine(t, func(t *testing.T, engine string) {
				res, code := runLoad(t, "-engine", engine, "-c", "2", "-d", "300ms", "-timeout", "100ms", "http://"+addr+"/")
				if code != 1 || tc.kind(res.Errors) == 0 {
					t.Errorf("exit %d, errors %+v: want exit 1 and errors of the kind", code, res.Errors)
				}
				if tc.name != "500" && tc.name != "extra" && res.Requests != 0 {
					t.Errorf("%d requests counted", res.Requests)
				}
			})
		})
	}
}

func TestConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	forEngine(t, func(t *testing.T, engine string) {
		res, code := runLoad(t, "-engine", engine, "-c", "2", "-d", "100ms", "http://"+addr+"/")
		if code != 1 || res.Errors.Connect == 0 || res.Requests != 0 {
			t.Errorf("exit %d, %+v: want exit 1 and connect errors", code, res)
		}
	})
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-engine", "bogus", "http://127.0.0.1:1/"},
		{"-threads", "0", "http://127.0.0.1:1/"},
		{"-c", "0", "http://127.0.0.1:1/"},
		{"https://127.0.0.1:1/"},
		{},
		{"-engine", "goroutine", "-rate", "100", "http://127.0.0.1:1/"}, // the open loop needs the event loops
		{"-rate", "-5", "http://127.0.0.1:1/"},
		{"-pipeline", "5000", "http://127.0.0.1:1/"},
		{"-size", "10", "http://127.0.0.1:1/"},
		{"-body", "x", "msgpackrpc://127.0.0.1:1"},
		{"-H", "A: b", "cocaine://127.0.0.1:1"},
		{"-size", "70000", "msgpackrpc://127.0.0.1:1"},
		{"-size", "-1", "cocaine://127.0.0.1:1"},
		{"msgpackrpc://127.0.0.1:1/path"},
		{"cocaine:///"},
		{"redis://127.0.0.1:1"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
