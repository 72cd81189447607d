package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"
)

func TestOpenIdleAndHTTPReady(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/plaintext" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "Hello, World!")
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	if err := httpReady(addr); err != nil {
		t.Fatalf("httpReady: %v", err)
	}
	conns, kinds := openIdle(context.Background(), addr, 40, 8, 10*time.Second)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if len(conns) != 40 || len(kinds) != 0 {
		t.Errorf("got %d connections and errors %v, want 40 and none", len(conns), kinds)
	}
}

func TestOpenIdleCountsBadAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	if err := httpReady(addr); err == nil {
		t.Error("httpReady: got no error for a 503")
	}
	conns, kinds := openIdle(context.Background(), addr, 10, 4, 10*time.Second)
	if len(conns) != 0 || kinds["status"] != 10 {
		t.Errorf("got %d connections and errors %v, want 0 and status 10", len(conns), kinds)
	}
	srv.Close()
	if _, kinds := openIdle(context.Background(), addr, 3, 2, 10*time.Second); kinds["connect"] != 3 {
		t.Errorf("closed server: got errors %v, want connect 3", kinds)
	}
}

// fakeRPC answers every request it reads with answer.
func fakeRPC(t *testing.T, answer []byte) string {
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
				buf := make([]byte, 256)
				if _, err := c.Read(buf); err == nil {
					c.Write(answer)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestRPCReady(t *testing.T) {
	good := fakeRPC(t, []byte{0x94, 0x01, 0x01, 0xc0, 0xa5, 'r', 'e', 'a', 'd', 'y'})
	if err := rpcReady(good, "echo"); err != nil {
		t.Errorf("good answer: %v", err)
	}
	// [1, 1, "no such method", nil]
	bad := fakeRPC(t, []byte{0x94, 0x01, 0x01, 0xa2, 'n', 'o', 0xc0, 0xc0, 0xc0, 0xc0})
	if err := rpcReady(bad, "echo"); err == nil {
		t.Error("error answer: got no error")
	}
	want := []byte{0x94, 0x00, 0x01, 0xa9, 'E', 'c', 'h', 'o', '.', 'E', 'c', 'h', 'o', 0x91, 0xa5, 'r', 'e', 'a', 'd', 'y'}
	if got := rpcRequest("Echo.Echo"); string(got) != string(want) {
		t.Errorf("request: got % x, want % x", got, want)
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	var ps procs
	// sleep inherits the ignored SIGTERM through exec.
	p, err := ps.startServer(t.TempDir(), "stubborn", []string{"sh", "-c", `trap "" TERM; exec sleep 30`})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let sh install the trap
	start := time.Now()
	if killed := p.stop(300 * time.Millisecond); !killed {
		t.Errorf("stop: got killed=false for a process that ignores SIGTERM")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %v", d)
	}
	q, err := ps.startServer(t.TempDir(), "polite", []string{"sleep", "30"})
	if err != nil {
		t.Fatal(err)
	}
	if killed := q.stop(5 * time.Second); killed {
		t.Error("stop: got killed=true for a process that exits on SIGTERM")
	}
	r, err := ps.startServer(t.TempDir(), "left", []string{"sleep", "30"})
	if err != nil {
		t.Fatal(err)
	}
	ps.killAll()
	if !r.exited() {
		t.Error("killAll left a child running")
	}
}
