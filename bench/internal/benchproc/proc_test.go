package benchproc

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStopEscalatesToKill(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	// sleep inherits the ignored SIGTERM through exec.
	p, err := Start([]string{"sh", "-c", `trap "" TERM; exec sleep 30`}, filepath.Join(dir, "stubborn.log"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let sh install the trap
	start := time.Now()
	if killed := p.Stop(300 * time.Millisecond); !killed {
		t.Errorf("Stop: got killed=false for a process that ignores SIGTERM")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %v", d)
	}
	if !p.Exited() || p.Wait() == nil {
		t.Errorf("killed process: got Exited %v, Wait %v, want true and an error", p.Exited(), p.Wait())
	}
	q, err := Start([]string{"sleep", "30"}, filepath.Join(dir, "polite.log"))
	if err != nil {
		t.Fatal(err)
	}
	if killed := q.Stop(5 * time.Second); killed {
		t.Error("Stop: got killed=true for a process that exits on SIGTERM")
	}
	if killed := q.Stop(5 * time.Second); killed {
		t.Error("Stop of an exited process: got killed=true")
	}
}

func TestKill(t *testing.T) {
	p, err := Start([]string{"sleep", "30"}, filepath.Join(t.TempDir(), "sleep.log"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() {
		t.Error("Exited: got true for a running process")
	}
	p.Kill()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed 5 s after Kill")
	}
	p.Kill() // a second time: nothing to kill
}

func TestStartLogAndEnv(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	log := filepath.Join(t.TempDir(), "env.log")
	p, err := Start([]string{"sh", "-c", `echo "  x=$BENCHPROC_X"; echo oops >&2`}, log, "BENCHPROC_X=1")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if p.LogPath() != log {
		t.Errorf("LogPath: got %q, want %q", p.LogPath(), log)
	}
	if got, want := p.LogTail(), "x=1\noops"; got != want {
		t.Errorf("LogTail: got %q, want %q", got, want)
	}

	long := filepath.Join(t.TempDir(), "long.log")
	q, err := Start([]string{"sh", "-c", `i=0; while [ $i -lt 100 ]; do echo 0123456789abcdef; i=$((i+1)); done`}, long)
	if err != nil {
		t.Fatal(err)
	}
	q.Wait()
	if got := q.LogTail(); len(got) != logTailBytes || !strings.HasSuffix(got, "0123456789abcdef") {
		t.Errorf("LogTail of a long log: got %d bytes ending %q, want %d ending in the last line", len(got), got[max(0, len(got)-20):], logTailBytes)
	}

	if _, err := Start([]string{filepath.Join(t.TempDir(), "missing")}, filepath.Join(t.TempDir(), "m.log")); err == nil {
		t.Error("Start of a missing binary: got no error")
	}
	if _, err := Start([]string{"sleep", "0"}, filepath.Join(t.TempDir(), "no", "such", "dir.log")); err == nil {
		t.Error("Start with an unwritable log: got no error")
	}
}

func TestEmptyLogTail(t *testing.T) {
	p, err := Start([]string{"true"}, filepath.Join(t.TempDir(), "true.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.Wait()
	if got := p.LogTail(); got != "(no output)" {
		t.Errorf("got %q, want %q", got, "(no output)")
	}
}

func TestPinned(t *testing.T) {
	argv := []string{"server", "-http", ":0"}
	if got := Pinned(-1, argv); !slices.Equal(got, argv) {
		t.Errorf("cpu -1: got %q, want %q", got, argv)
	}
	want := []string{"taskset", "-c", "3", "server", "-http", ":0"}
	if got := Pinned(3, argv); !slices.Equal(got, want) {
		t.Errorf("cpu 3: got %q, want %q", got, want)
	}
	if argv[0] != "server" || len(argv) != 3 {
		t.Errorf("Pinned changed argv: %q", argv)
	}
}
