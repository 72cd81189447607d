package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokamak-io/tokamak/bench/internal/benchproc"
)

// Time limits. Every wait of the harness is bounded by one of these.
const (
	readyTimeout = 10 * time.Second // a server must answer within this after its start
	stopTimeout  = 10 * time.Second // SIGTERM to exit; then SIGKILL
	// profileStopTimeout covers tokamak's default 30 s drain: the profile
	// is written only after it.
	profileStopTimeout = 40 * time.Second
	loadSlack          = 30 * time.Second // a load tool may run this much past -d
)

// proc is a server started by the harness (through taskset when
// pinning), with the name it is logged under.
type proc struct {
	*benchproc.Proc
	name string
}

// procs is the set of live children, killed when the harness exits.
type procs struct {
	mu   sync.Mutex
	live map[*proc]struct{}
}

func (ps *procs) add(p *proc) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.live == nil {
		ps.live = map[*proc]struct{}{}
	}
	ps.live[p] = struct{}{}
}

func (ps *procs) remove(p *proc) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	delete(ps.live, p)
}

// killAll sends SIGKILL to every live child, by PID, and waits for them
// (briefly: a killed process is reaped at once).
func (ps *procs) killAll() {
	ps.mu.Lock()
	list := make([]*proc, 0, len(ps.live))
	for p := range ps.live {
		list = append(list, p)
	}
	ps.mu.Unlock()
	for _, p := range list {
		p.Kill()
	}
	for _, p := range list {
		select {
		case <-p.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

// startServer starts argv in the background with GOMAXPROCS=1, its output
// going to a log file in dir. The child leaves the live set once it has
// exited.
func (ps *procs) startServer(dir, name string, argv []string) (*proc, error) {
	bp, err := benchproc.Start(argv, filepath.Join(dir, name+".log"), "GOMAXPROCS=1")
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{Proc: bp, name: name}
	ps.add(p)
	go func() {
		<-p.Done()
		ps.remove(p)
	}()
	return p, nil
}

// waitReady polls check until it succeeds, the process exits or
// readyTimeout passes.
func waitReady(ctx context.Context, p *proc, check func() error) error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("%s exited before it was ready (%v): %s", p.name, p.Wait(), p.LogTail())
		}
		if last = check(); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready after %v: %v; log: %s", p.name, readyTimeout, last, p.LogTail())
}

// plaintextRequest is what every readiness check and idle connection sends.
const plaintextRequest = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

// readResponse reads one HTTP/1.1 response framed by Content-Length from
// c into buf and returns its status line.
func readResponse(c net.Conn, buf []byte) (string, error) {
	n := 0
	for {
		if n == len(buf) {
			return "", errors.New("response head too large")
		}
		m, err := c.Read(buf[n:])
		n += m
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
			head := string(buf[:i])
			status, _, _ := strings.Cut(head, "\r\n")
			clen := -1
			for line := range strings.SplitSeq(head, "\r\n") {
				k, v, ok := strings.Cut(line, ":")
				if ok && strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
					clen, _ = strconv.Atoi(strings.TrimSpace(v))
				}
			}
			if clen < 0 {
				return status, errors.New("response without Content-Length")
			}
			for have := n - (i + 4); have < clen; {
				if err != nil {
					return status, err
				}
				var k int
				k, err = c.Read(buf[:min(len(buf), clen-have)])
				have += k
			}
			return status, nil
		}
		if err != nil {
			return "", err
		}
	}
}

// httpReady checks that GET /plaintext answers 200 at addr.
func httpReady(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, plaintextRequest); err != nil {
		return err
	}
	status, err := readResponse(c, make([]byte, 4096))
	if err != nil {
		return err
	}
	if !strings.HasPrefix(status, "HTTP/1.1 200 ") {
		return fmt.Errorf("GET /plaintext: %q", status)
	}
	return nil
}

// rpcRequest encodes the MessagePack-RPC request [0, 1, method, ["ready"]].
func rpcRequest(method string) []byte {
	b := []byte{0x94, 0x00, 0x01}
	if len(method) < 32 {
		b = append(b, 0xa0|byte(len(method)))
	} else {
		b = append(b, 0xd9, byte(len(method)))
	}
	b = append(b, method...)
	return append(b, 0x91, 0xa5, 'r', 'e', 'a', 'd', 'y')
}

// rpcReady checks that method echoes a call at addr: the answer must be
// [1, 1, nil, "ready"].
func rpcReady(addr, method string) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(rpcRequest(method)); err != nil {
		return err
	}
	want := []byte{0x94, 0x01, 0x01, 0xc0, 0xa5, 'r', 'e', 'a', 'd', 'y'}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s: answer % x, want % x", method, got, want)
	}
	return nil
}

// ports hands out fresh listen ports on 127.0.0.1 below the ephemeral
// range (so that a port cannot be taken by an outgoing connection between
// the check and the server's bind), skipping ports in use.
type ports struct{ next int }

const (
	portLo = 21000
	portHi = 32000
)

func (ps *ports) get() (string, error) {
	for range portHi - portLo {
		p := ps.next
		ps.next++
		if ps.next >= portHi {
			ps.next = portLo
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr, nil
	}
	return "", errors.New("no free port")
}
