package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the harness end to end on a tiny matrix: tokamak and
// net/http at c50, one repetition of 1 s (about 10 s once the build is
// cached), into a temporary markdown file that already has hand-written
// content.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers and load for a few seconds; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the binaries with")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Log("taskset not found: the run is not pinned")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "bench.md")
	jsonFile := filepath.Join(dir, "runs.json")
	const doc = "# Benchmarks\n\nIntro written by hand.\n\n## Method\n\nKept as it is.\n"
	if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a cold build included
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-only", "c50,tokamak,nethttp", "-d", "1s", "-reps", "1", "-out", out, "-json", jsonFile}, &stdout, &stderr)
	t.Logf("harness took %v\n%s", time.Since(start).Round(time.Millisecond), stderr.String())
	if code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s", code, stdout.String())
	}

	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(md)
	for _, want := range []string{
		"# Benchmarks\n\nIntro written by hand.\n\n" + beginMarker + "\n",
		endMarker + "\n\n## Method\n\nKept as it is.\n",
		"| c50 | tokamak | ", "| c50 | net/http | ",
		"| HTTP req/s vs net/http | c50 |",
		"![", "(bench-ratios.svg)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %q:\n%s", out, want, s)
		}
	}
	if !strings.Contains(stdout.String(), "| c50 | tokamak | ") {
		t.Errorf("stdout lacks the tables:\n%s", stdout.String())
	}
	svg, err := os.ReadFile(filepath.Join(dir, "bench-ratios.svg"))
	if err != nil {
		t.Fatal(err)
	}
	decodeSVG(t, string(svg))

	var rep struct {
		Runs []Run `json:"runs"`
	}
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("got %d runs, want 2", len(rep.Runs))
	}
	for _, r := range rep.Runs {
		if r.Failure != "" || r.Requests == 0 || r.ReqPerSec == 0 || r.ServerTicks <= 0 || r.ServerCPUus <= 0 || r.RSSKB == 0 {
			t.Errorf("run %s/%s: got %+v, want requests, CPU and RSS measured", r.Config, r.Who, r)
		}
	}

	// A second run into the same file replaces the generated part only.
	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, []string{"-only", "c50,tokamak", "-d", "200ms", "-reps", "1", "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("second run: exit status %d\n%s", code, stderr.String())
	}
	md2, _ := os.ReadFile(out)
	if strings.Count(string(md2), beginMarker) != 1 || strings.Contains(string(md2), "| c50 | net/http | ") ||
		!strings.HasSuffix(string(md2), endMarker+"\n\n## Method\n\nKept as it is.\n") {
		t.Errorf("second run: generated part not replaced in place:\n%s", md2)
	}
}
