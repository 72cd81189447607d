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
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Time limits of the server's life.
const (
	readyTimeout = 15 * time.Second // from the start to the ready line and a first answer
	stopTimeout  = 10 * time.Second // SIGTERM to exit; then SIGKILL
)

// server is one run of the server binary, started by this tool.
type server struct {
	cmd  *exec.Cmd
	argv []string
	log  string            // its stdout and stderr
	addr map[string]string // listening address by scheme: http, cocaine, msgpackrpc
	done chan struct{}     // closed once it has been waited for
	err  error             // its exit, valid after done
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// buildServer compiles ./cmd/server of the module at root into dir.
func buildServer(ctx context.Context, root, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "server")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/server")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/server: %v\n%s", err, out)
	}
	return bin, nil
}

// findRoot returns the directory of the tokamak module above the working
// directory.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/tokamak-io/tokamak\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the tokamak module (no go.mod of github.com/tokamak-io/tokamak above the working directory); pass -server")
		}
		dir = parent
	}
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
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	return argv
}

// startServer runs argv with its output going to logPath and waits until
// it logged its listeners and "ready" and answers GET /plaintext. The
// server is in its own process group and is killed by the kernel if this
// tool dies first.
func startServer(ctx context.Context, argv []string, logPath string, gomaxprocs1 bool) (*server, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if gomaxprocs1 {
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &server{cmd: cmd, argv: argv, log: logPath, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		lf.Close()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.stop()
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
		if s.exited() {
			return fmt.Errorf("server exited before it was ready (%v): %s", s.err, s.logTail())
		}
		b, _ := os.ReadFile(s.log)
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
	return fmt.Errorf("server not ready after %v: %v; log: %s", readyTimeout, last, s.logTail())
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

// stop sends SIGTERM to the server's PID, waits up to stopTimeout, then
// sends SIGKILL. It reports whether it had to kill.
func (s *server) stop() (killed bool) {
	if s.exited() {
		return false
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case <-s.done:
		return false
	case <-t.C:
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	return true
}

// logTail returns the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log)
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) > 800 {
		b = b[len(b)-800:]
	}
	if len(b) == 0 {
		return "(no output)"
	}
	return string(b)
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
	cpus, err := allowedCPUs()
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
