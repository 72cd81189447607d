package benchproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// buildTimeout bounds one go build, a cold one included.
const buildTimeout = 5 * time.Minute

// FindRoot returns the root directory of the tokamak module: the first
// directory, from the working directory upwards, whose go.mod declares
// module github.com/tokamak-io/tokamak.
func FindRoot() (string, error) {
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
			return "", errors.New("not inside the tokamak module (no go.mod of github.com/tokamak-io/tokamak above the working directory)")
		}
		dir = parent
	}
}

// Build compiles the main packages pkgs (such as "./cmd/server") of the
// module at root with one go build -o out, within five minutes and ctx.
// out is the binary's path for one package, or a directory ending in a
// path separator for several, where go build names each binary after its
// package's directory. A failure carries the go command's output.
func Build(ctx context.Context, root, out string, pkgs ...string) error {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", out}, pkgs...)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, b)
	}
	return nil
}
