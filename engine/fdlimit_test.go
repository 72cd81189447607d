package engine_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
)

const fdChildEnv = "TOKAMAK_TEST_FDLIMIT_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(fdChildEnv) {
	case "fdlimit":
		os.Exit(fdLimitChild())
	case "storm":
		os.Exit(serveChild(engine.Config{Loops: 1}))
	}
	os.Exit(m.Run())
}

// fdLimitChild serves with a descriptor limit of 64 (see serveChild).
func fdLimitChild() int {
	lim := syscall.Rlimit{Cur: 64, Max: 64}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	return serveChild(engine.Config{Loops: 1})
}

// serveChild serves the built-ins on HTTP with cfg until its stdin closes.
// Lines on stdin drive it: "exhaust" opens files until none is left,
// "release" closes them.
func serveChild(cfg engine.Config) int {
	e := engine.New(cfg)
	handlers.RegisterBuiltins(e.Handlers(), e.Stats)
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		var held []*os.File
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			switch sc.Text() {
			case "exhaust":
				for {
					f, err := os.Open(os.DevNull)
					if err != nil {
						break
					}
					held = append(held, f)
				}
				fmt.Printf("EXHAUSTED %d\n", len(held))
			case "release":
				for _, f := range held {
					f.Close()
				}
				held = nil
				fmt.Println("RELEASED")
			}
		}
		cancel()
	}()
	go func() {
		<-e.Ready()
		fmt.Printf("ADDR %s %d\n", addr, e.MaxConns())
	}()
	if err := e.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	return 0
}

// fdChild is the engine running in a child process: under a low
// descriptor limit, or with a memory of its own to measure.
type fdChild struct {
	addr     string
	maxConns int
	pid      int
	stdin    io.WriteCloser
	stdout   *bufio.Reader
	stderr   *lockedBuffer
	exited   chan error
}

func startFDChild(t *testing.T) *fdChild {
	t.Helper()
	return startChild(t, "fdlimit")
}

// startChild starts this test binary as a child that serves in mode (see
// TestMain).
func startChild(t *testing.T, mode string) *fdChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fdChildEnv+"="+mode)
	ch := &fdChild{stderr: new(lockedBuffer), exited: make(chan error, 1)}
	ch.stdin, _ = cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	ch.stdout = bufio.NewReader(out)
	cmd.Stderr = ch.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch.pid = cmd.Process.Pid
	go func() { ch.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		ch.stdin.Close()
		select {
		case <-ch.exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("child did not stop")
		}
		if t.Failed() {
			t.Logf("child's log:\n%s", ch.stderr)
		}
	})
	line := ch.expect(t, "ADDR ")
	fmt.Sscanf(line, "ADDR %s %d", &ch.addr, &ch.maxConns)
	return ch
}

// expect reads the child's next line, which must start with prefix.
func (ch *fdChild) expect(t *testing.T, prefix string) string {
	t.Helper()
	line, err := ch.stdout.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, prefix) {
		t.Fatalf("child said %q (%v), want %q…", line, err, prefix)
	}
	return line
}

func (ch *fdChild) alive(t *testing.T) {
	t.Helper()
	select {
	case err := <-ch.exited:
		t.Fatalf("child exited: %v\n%s", err, ch.stderr)
	default:
	}
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// getEventually retries GET /plaintext for a few seconds.
func getEventually(t *testing.T, addr string) {
	t.Helper()
	var err error
	for try := 0; try < 50; try++ {
		var res *http.Response
		res, err = (&http.Client{Timeout: 2 * time.Second}).Get("http://" + addr + "/plaintext")
		if err == nil {
			if got := body(res); got != "Hello, World!" {
				t.Fatalf("got %q", got)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the server does not answer: %v", err)
}

func TestDescriptorLimitRefusesExcessAndKeepsServing(t *testing.T) {
	ch := startFDChild(t)
	addr, maxConns := ch.addr, ch.maxConns
	if maxConns <= 0 || maxConns >= 64 {
		t.Fatalf("connection cap %d under a limit of 64", maxConns)
	}

	const total = 100
	conns := make([]net.Conn, 0, total)
	// A refused connection is reset as soon as it is accepted: the reset
	// may come before the dial returns (ECONNRESET), or after (the read
	// below).
	open, refused := 0, 0
	for range total {
		c, err := net.Dial("tcp", addr)
		if errors.Is(err, syscall.ECONNRESET) {
			refused++
			continue
		}
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
	}
	// An accepted connection stays open (a read times out); a refused one
	// is reset at once.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			mu.Lock()
			defer mu.Unlock()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				open++
			} else {
				refused++
			}
		}()
	}
	wg.Wait()
	t.Logf("cap %d: %d open, %d refused", maxConns, open, refused)
	if open != maxConns || refused != total-maxConns {
		t.Errorf("%d open and %d refused, want %d and %d", open, refused, maxConns, total-maxConns)
	}
	for _, c := range conns {
		c.Close()
	}
	ch.alive(t)
	getEventually(t, addr) // the server still answers afterwards
}

// TestAcceptFailureDoesNotStopTheEngine: when the process runs out of
// descriptors anyway (here: files opened behind the engine's back), accept
// fails with EMFILE, which stops all of gnet's loops; the engine must start
// them again once descriptors are free.
func TestAcceptFailureDoesNotStopTheEngine(t *testing.T) {
	ch := startFDChild(t)
	getEventually(t, ch.addr)
	io.WriteString(ch.stdin, "exhaust\n")
	ch.expect(t, "EXHAUSTED ")
	// This connection reaches the backlog; accepting it fails.
	if c, err := net.DialTimeout("tcp", ch.addr, time.Second); err == nil {
		c.SetReadDeadline(time.Now().Add(time.Second))
		c.Read(make([]byte, 1))
		c.Close()
	}
	io.WriteString(ch.stdin, "release\n")
	ch.expect(t, "RELEASED")
	ch.alive(t)
	getEventually(t, ch.addr)
	if !strings.Contains(ch.stderr.String(), "starting them again") {
		t.Errorf("the engine did not report the restart; its log:\n%s", ch.stderr)
	}
}

// rssOf returns the resident memory of process pid, in bytes.
func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
