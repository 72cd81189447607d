package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tokamak-io/tokamak/bench/internal/benchproc"
)

// Time limits of the server's life.
const (
	readyTimeout = 15 * time.Second // from the start to the ready line and a first answer
	stopTimeout  = 10 * time.Second // SIGTERM to exit; then SIGKILL
)

// server is one run of the server binary, started by this tool; its log
// holds its stdout and stderr.
type server struct {
	*benchproc.Proc
	argv []string
	addr map[string]string // listening address by scheme: http, cocaine, msgpackrpc
}

// serverArgv is the command line: every listener but the locator on
// 127.0.0.1 port 0 (the server logs the port it got), info logging (the
// tool reads the listening and ready lines), then the scenario's flags and
// the user's -server-args, which come last and so win.
func serverArgv(bin string, cpu int, extra ...[]string) []string {
	argv := []string{bin,
		"-http", "127.0.0.1:0", "-cocaine", "127.0.0.1:0", "-msgpackrpc", "127.0.0.1:0", "-locator", "",
		"-log-level", "info"}
	for _, e := range extra {
		argv = append(argv, e...)
	}
	return benchproc.Pinned(cpu, argv)
}

// startServer runs argv with its output going to logPath and waits until
// it logged its listeners and "ready" and answers GET /plaintext. The
// server is in its own process group and is killed by the kernel if this
// tool dies first.
func startServer(ctx context.Context, argv []string, logPath string, gomaxprocs1 bool) (*server, error) {
	var env []string
	if gomaxprocs1 {
		env = []string{"GOMAXPROCS=1"}
	}
	p, err := benchproc.Start(argv, logPath, env...)
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &server{Proc: p, argv: argv}
	if err := s.waitReady(ctx); err != nil {
		s.Stop(stopTimeout)
		return nil, err
	}
	return s, nil
}

var (
	listeningRE = regexp.MustCompile(`msg=listening scheme=(\S+) addr=(\S+)`)
	readyRE     = regexp.MustCompile(`msg=ready\b`)
)

// parseServerLog returns the listening addresses by scheme and whether the
// ready line was logged.
func parseServerLog(log []byte) (map[string]string, bool) {
	addrs := map[string]string{}
	for _, m := range listeningRE.FindAllSubmatch(log, -1) {
		addrs[string(m[1])] = string(m[2])
	}
	return addrs, readyRE.Match(log)
}

func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		if s.Exited() {
			return fmt.Errorf("server exited before it was ready (%v): %s", s.Wait(), s.LogTail())
		}
		b, _ := os.ReadFile(s.LogPath())
		addrs, ready := parseServerLog(b)
		switch {
		case !ready:
			last = errors.New("no ready line logged")
		case addrs["http"] == "" || addrs["cocaine"] == "" || addrs["msgpackrpc"] == "":
			return fmt.Errorf("server did not log its http, cocaine and msgpackrpc listeners (-server-args must keep them and -log-level info): %v", addrs)
		default:
			if last = plaintextOK(addrs["http"]); last == nil {
				s.addr = addrs
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("server not ready after %v: %v; log: %s", readyTimeout, last, s.LogTail())
}

// plaintextOK checks that GET /plaintext answers 200 at addr.
func plaintextOK(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, plaintextRequest); err != nil {
		return err
	}
	resp, err := readHTTPResponse(bufio.NewReaderSize(c, 512))
	if err != nil {
		return err
	}
	if resp.status != 200 {
		return fmt.Errorf("GET /plaintext: %q", resp.line)
	}
	return nil
}

// choosePinning picks the server's CPU and the client's: the first two
// allowed CPUs when taskset exists and there are two; -1, -1 and the
// reason otherwise.
func choosePinning(want bool) (serverCPU, clientCPU int, why string) {
	if !want {
		return -1, -1, "not pinned (-pin=false)"
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return -1, -1, "not pinned: taskset not found"
	}
	cpus, err := benchproc.AllowedCPUs()
	if err != nil || len(cpus) < 2 {
		return -1, -1, fmt.Sprintf("not pinned: fewer than two CPUs (%d)", len(cpus))
	}
	return cpus[0], cpus[1], fmt.Sprintf("server on CPU %d (taskset, GOMAXPROCS=1), attack client and bystanders on CPU %d", cpus[0], cpus[1])
}

// pinSelf restricts every thread of this process to cpu. Threads created
// later inherit the mask from the thread that creates them. The pass runs
// twice to catch threads started during the first.
func pinSelf(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, syscall.ESRCH) {
				return err
			}
		}
	}
	return nil
}
