package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects run's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out syncBuffer
	if err := run(context.Background(), []string{"-h"}, &out); err != nil {
		t.Fatalf("-h: %v", err)
	}
	for _, f := range []string{"http", "loops", "max-conns", "header-timeout", "body-timeout", "idle-timeout",
		"close-timeout", "linger", "shutdown-timeout", "high-water", "low-water", "max-inbound-paused",
		"max-request-line", "max-header-bytes", "max-headers", "max-body", "log-level",
		"cocaine", "cocaine-v11", "locator", "msgpackrpc", "max-frame", "offload-workers", "offload-queue"} {
		if !strings.Contains(out.String(), "  -"+f+" ") && !strings.Contains(out.String(), "  -"+f+"\n") {
			t.Errorf("-h does not document -%s", f)
		}
	}
	if !strings.Contains(out.String(), "[cocaine cocaine-locator cocaine-v11 http msgpackrpc]") {
		t.Errorf("-h does not list the compiled-in codecs: %q", out.String())
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-http", "", "-cocaine", "", "-locator", "", "-msgpackrpc", ""},
		{"-http", "not an address"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("run(%q): no error", args)
		}
	}
}

func TestServesBuiltinsAndDrains(t *testing.T) {
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	profile := filepath.Join(t.TempDir(), "cpu.prof")
	go func() {
		done <- run(ctx, []string{"-http", "127.0.0.1:0", "-cocaine", "127.0.0.1:0", "-locator", "127.0.0.1:0",
			"-msgpackrpc", "127.0.0.1:0", "-loops", "1", "-cpuprofile", profile}, &out)
	}()

	addrs := map[string]string{}
	addrRE := regexp.MustCompile(`msg=listening scheme=(\S+) addr=(\S+)`)
	for deadline := time.Now().Add(5 * time.Second); len(addrs) < 4 && time.Now().Before(deadline); {
		for _, m := range addrRE.FindAllStringSubmatch(out.String(), -1) {
			addrs[m[1]] = m[2]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(addrs) < 4 {
		t.Fatalf("not every listening line in %q", out.String())
	}
	addr := addrs["http"]
	for path, want := range map[string]string{
		"/plaintext": "Hello, World!",
		"/json":      `{"message":"Hello, World!"}`,
		"/healthz":   "ok\n",
	} {
		var res *http.Response
		var err error
		for try := 0; try < 50; try++ {
			if res, err = http.Get("http://" + addr + path); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != want {
			t.Errorf("GET %s = %q, want %q", path, b, want)
		}
	}
	res, err := http.Post("http://"+addr+"/rpc/ping", "application/json", strings.NewReader("[]"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(res.Body); string(b) != `"pong"` {
		t.Errorf("POST /rpc/ping = %q", b)
	}
	res.Body.Close()
	// MessagePack-RPC: [0, 1, "ping", []] → [1, 1, nil, "pong"].
	exchange(t, addrs["msgpackrpc"], "\x94\x00\x01\xa4ping\x90", "\x94\x01\x01\xc0\xa4pong")
	// Cocaine: invoke echo on channel 2, a chunk "hi", close → the chunk back, close.
	exchange(t, addrs["cocaine"], "\x94\x02\x00\x91\xa4echo\x90"+"\x94\x02\x00\x91\xa2hi\x90"+"\x94\x02\x02\x90\x90",
		"\x94\x02\x00\x91\xa2hi\x90\x94\x02\x02\x90\x90")
	// Cocaine, a unary method: invoke ping, one chunk of params (the bytes
	// 90, i.e. []), close → one chunk with the result (the bytes of "pong"), close.
	exchange(t, addrs["cocaine"], "\x94\x02\x00\x91\xa4ping\x90"+"\x94\x02\x00\x91\xa1\x90\x90"+"\x94\x02\x02\x90\x90",
		"\x94\x02\x00\x91\xa5\xa4pong\x90\x94\x02\x02\x90\x90")
	// The locator resolves echo to the Cocaine listener.
	_, port, _ := net.SplitHostPort(addrs["cocaine"])
	got := exchange(t, addrs["cocaine-locator"], "\x94\x02\x00\x91\xa4echo\x90", "")
	if p, _ := strconv.Atoi(port); !bytes.Contains(got, []byte{0xcd, byte(p >> 8), byte(p)}) {
		t.Errorf("the locator's answer % x does not name port %s", got, port)
	}
	cancel() // what SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	// A gzipped protobuf: what go tool pprof reads.
	if b, err := os.ReadFile(profile); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("-cpuprofile wrote %d bytes (%v), want a gzipped profile", len(b), err)
	}
}

// exchange sends req on a new connection and reads until it has len(want)
// bytes (or, when want is empty, whatever comes within 300 ms), which must
// equal want.
func exchange(t *testing.T, addr, req, want string) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	if want == "" {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		b, _ := io.ReadAll(c)
		return b
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	b := make([]byte, len(want))
	if _, err := io.ReadFull(c, b); err != nil || string(b) != want {
		t.Errorf("%s: got % x (%v), want % x", addr, b, err, want)
	}
	return b
}
