package engine_test

import (
	"bufio"
	"context"
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
	if os.Getenv(fdChildEnv) != "" {
		os.Exit(fdLimitChild())
	}
	os.Exit(m.Run())
}

// fdLimitChild serves with a descriptor limit of 64 until its stdin closes.
func fdLimitChild() int {
	lim := syscall.Rlimit{Cur: 64, Max: 64}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	e := engine.New(engine.Config{Loops: 1})
	handlers.RegisterBuiltins(e.Handlers(), e.Stats)
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
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

func TestDescriptorLimitRefusesExcessAndKeepsServing(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fdChildEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("child did not stop")
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		t.Fatalf("child said %q (%v)", line, err)
	}
	var addr string
	var maxConns int
	fmt.Sscanf(line, "ADDR %s %d", &addr, &maxConns)
	if maxConns <= 0 || maxConns >= 64 {
		t.Fatalf("connection cap %d under a limit of 64", maxConns)
	}

	const total = 100
	conns := make([]net.Conn, 0, total)
	for range total {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
	}
	// An accepted connection stays open (a read times out); a refused one
	// is closed at once (EOF).
	var mu sync.Mutex
	var wg sync.WaitGroup
	open, refused := 0, 0
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
	select {
	case err := <-exited:
		t.Fatalf("child exited: %v", err)
	default:
	}
	// The server still answers afterwards.
	var res *http.Response
	for try := 0; try < 20; try++ {
		res, err = (&http.Client{Timeout: 2 * time.Second}).Get("http://" + addr + "/plaintext")
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after the flood: %v", err)
	}
	if got := body(res); got != "Hello, World!" {
		t.Fatalf("after the flood: %q", got)
	}
}
