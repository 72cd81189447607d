package benchproc

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	// This package lives at bench/internal/benchproc of the module.
	if got := filepath.Join(root, "bench", "internal", "benchproc"); got != wd {
		t.Errorf("got root %q, want the module root above %q", root, wd)
	}
	t.Chdir(t.TempDir())
	if _, err := FindRoot(); err == nil {
		t.Error("outside the module: got no error")
	}
}

// TestBuildFails checks that a failed build names its packages and
// carries the go command's output; it compiles nothing.
func TestBuildFails(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	err := Build(context.Background(), dir, filepath.Join(dir, "out"), "./missing", "./absent")
	if err == nil {
		t.Fatal("got no error")
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "go build ./missing ./absent: ") || !strings.Contains(msg, "\n") {
		t.Errorf("got %q, want the packages and the go command's output", msg)
	}
}
