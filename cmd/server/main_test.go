package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
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
		"max-request-line", "max-header-bytes", "max-headers", "max-body", "log-level"} {
		if !strings.Contains(out.String(), "  -"+f+" ") && !strings.Contains(out.String(), "  -"+f+"\n") {
			t.Errorf("-h does not document -%s", f)
		}
	}
	if !strings.Contains(out.String(), "[http]") {
		t.Errorf("-h does not list the compiled-in codecs: %q", out.String())
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-http", ""}, {"-http", "not an address"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("run(%q): no error", args)
		}
	}
}

func TestServesBuiltinsAndDrains(t *testing.T) {
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-http", "127.0.0.1:0", "-loops", "1"}, &out) }()

	addrRE := regexp.MustCompile(`msg=listening scheme=http addr=(\S+)`)
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == "" && time.Now().Before(deadline); {
		if m := addrRE.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("no listening line in %q", out.String())
	}
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
	cancel() // what SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}
