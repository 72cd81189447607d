package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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

func TestClosedLoopAgainstNetHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello, World!")
	}))
	defer srv.Close()
	res, code := runLoad(t, "-c", "4", "-pipeline", "8", "-n", "2000", srv.URL+"/x")
	if code != 0 || res.Requests != 2000 || res.Statuses["200"] != 2000 || res.Errors.total() != 0 {
		t.Fatalf("exit %d, %+v", code, res)
	}
	if res.Latency["p50"] <= 0 || res.Latency["max"] < res.Latency["p99"] {
		t.Errorf("latencies %v", res.Latency)
	}
}

// A server that answers garbage, a wrong status or closes early gets
// errors, not speed.
func TestMisbehavingServers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
		kind   func(e errorCounts) uint64
	}{
		{"garbage", "this is not http\r\n\r\n", func(e errorCounts) uint64 { return e.Protocol }},
		{"500", "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", func(e errorCounts) uint64 { return e.Status }},
		{"closes", "", func(e errorCounts) uint64 { return e.Closed }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						buf := make([]byte, 4096)
						for {
							n, err := c.Read(buf)
							if err != nil {
								return
							}
							if tc.answer == "" {
								return
							}
							c.Write([]byte(strings.Repeat(tc.answer, strings.Count(string(buf[:n]), "\r\n\r\n"))))
						}
					}()
				}
			}()
			res, code := runLoad(t, "-c", "2", "-d", "300ms", "http://"+ln.Addr().String()+"/")
			if code != 1 || tc.kind(res.Errors) == 0 {
				t.Errorf("exit %d, errors %+v: want exit 1 and errors of the kind", code, res.Errors)
			}
			if tc.name != "500" && res.Requests != 0 {
				t.Errorf("%d requests counted", res.Requests)
			}
		})
	}
}
