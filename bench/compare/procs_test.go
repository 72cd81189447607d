package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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

// TestKillAll checks that killAll kills every live child and that a
// child that exits leaves the live set.
func TestKillAll(t *testing.T) {
	var ps procs
	p, err := ps.startServer(t.TempDir(), "left", []string{"sleep", "30"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := ps.startServer(t.TempDir(), "quick", []string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	q.Wait()
	ps.killAll()
	if !p.Exited() {
		t.Error("killAll left a child running")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ps.mu.Lock()
		n := len(ps.live)
		ps.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d children still in the live set 5 s after they exited", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
