package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke builds the real server and runs every scenario at a tiny
// scale and a short time (about 50 s), unpinned, then checks that each ran
// and measured something.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and attacks the real server for about a minute")
	}
	dir := t.TempDir()
	jsonPath, mdPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-scale", "0.005", "-time", "0.03", "-pin=false", "-json", jsonPath, "-md", mdPath}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != len(allScenarios) {
		t.Fatalf("got %d scenarios, want %d", len(rep.Scenarios), len(allScenarios))
	}
	for i, r := range rep.Scenarios {
		if r.Scenario != allScenarios[i].name {
			t.Errorf("scenario %d: got %s, want %s", i, r.Scenario, allScenarios[i].name)
		}
		if r.Error != "" {
			t.Errorf("%s: %s", r.Scenario, r.Error)
		}
		if len(r.Timeline) < 3 || r.Mem.PeakRSSKB <= 0 || r.Mem.BaselineFDs <= 0 {
			t.Errorf("%s: %d samples, peak RSS %d kB, baseline fds %d", r.Scenario, len(r.Timeline), r.Mem.PeakRSSKB, r.Mem.BaselineFDs)
		}
		if r.Attack.Opened == 0 {
			t.Errorf("%s: no attacking connection opened (%+v)", r.Scenario, r.Attack)
		}
		if r.HTTP.N == 0 || r.RPC.N == 0 {
			t.Errorf("%s: bystanders answered %d HTTP, %d RPC", r.Scenario, r.HTTP.N, r.RPC.N)
		}
		for _, n := range r.Notes {
			if strings.Contains(n, "exited") || strings.Contains(n, "killed") {
				t.Errorf("%s: %s", r.Scenario, n)
			}
		}
	}
	for _, name := range []string{"listener-starve", "storm-memory"} {
		for _, r := range rep.Scenarios {
			if r.Scenario == name && r.Bound == nil {
				t.Errorf("%s: no bound verdict", name)
			}
		}
	}
	md, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(md, []byte(mdBegin)) || !bytes.HasSuffix(md, []byte(mdEnd+"\n")) || bytes.Count(md, []byte("\n| ")) != len(allScenarios)+1 {
		t.Errorf("markdown block:\n%s", md)
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}
