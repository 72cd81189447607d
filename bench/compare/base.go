package main

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Before/after: with -base, an older build of tokamak's server runs as the
// contestant "base" next to tokamak (withBase), and the report adds the
// ratios tokamak/base per repetition. Such a run is not the record of the
// peers: it leaves docs/benchmarks.md alone.

// baseReport is the before/after part of a report (-json "base").
type baseReport struct {
	Binary          string      `json:"binary"`
	Revision        string      `json:"revision,omitempty"`         // the base binary's, from its build info
	TokamakRevision string      `json:"tokamak_revision,omitempty"` // the tree's ./cmd/server, likewise
	Ratios          []BaseRatio `json:"ratios"`
}

// BaseRatio is a figure of tokamak over the same figure of the base build,
// taken within each repetition (the two runs are back to back).
type BaseRatio struct {
	Config  string     `json:"config"`
	Figure  string     `json:"figure"` // figCPU, figRate or figKB
	What    string     `json:"what"`   // the figure as the tables name it
	PerRep  []RepRatio `json:"per_rep"`
	Left    []int      `json:"left_out,omitempty"` // repetitions left out: a run of the pair had errors or failed
	Ratio   spread     `json:"ratio"`              // over PerRep
	Tokamak spread     `json:"tokamak"`            // the figure over tokamak's runs, as in the tables
	Base    spread     `json:"base"`
}

// RepRatio is the ratio of one repetition.
type RepRatio struct {
	Rep   int     `json:"rep"`
	Ratio float64 `json:"ratio"`
}

// baseFigures are the figures compared in a configuration of kind k.
func baseFigures(k kind) []string {
	if k == kindIdle {
		return []string{figKB}
	}
	return []string{figCPU, figRate}
}

// figureTitle names fig as the tables of kind k do.
func figureTitle(k kind, fig string) string {
	switch {
	case fig == figKB:
		return "KB per idle connection"
	case k == kindRPC && fig == figCPU:
		return "server CPU µs/call"
	case k == kindRPC && fig == figRate:
		return "calls/s"
	case fig == figCPU:
		return "server CPU µs/req"
	}
	return fig
}

// baseRatios compares tokamak with the base build in every configuration
// that ran the base build.
func baseRatios(runs []Run, configs []Config) []BaseRatio {
	var out []BaseRatio
	for _, c := range configs {
		if !has(runs, c.Name, baseName) {
			continue
		}
		for _, fig := range baseFigures(c.Kind) {
			rs := ratios(runs, c.Name, fig, "tokamak", baseName)
			x := BaseRatio{Config: c.Name, Figure: fig, What: figureTitle(c.Kind, fig), Left: rs.Left, Ratio: summarize(rs.Vals)}
			for i, v := range rs.Vals {
				x.PerRep = append(x.PerRep, RepRatio{rs.Reps[i], v})
			}
			get := func(r *Run) float64 { return r.figure(fig) }
			x.Tokamak = summarize(values(runs, c.Name, "tokamak", get))
			x.Base = summarize(values(runs, c.Name, baseName, get))
			out = append(out, x)
		}
	}
	return out
}

// perRepText lists the ratios in repetition order, "1: 1.02×, 2: ⚠, 3: 0.98×".
func (x BaseRatio) perRepText() string {
	var parts []string
	i, j := 0, 0
	for i < len(x.PerRep) || j < len(x.Left) {
		if j == len(x.Left) || i < len(x.PerRep) && x.PerRep[i].Rep < x.Left[j] {
			parts = append(parts, fmt.Sprintf("%d: %s", x.PerRep[i].Rep, fmtRatio(x.PerRep[i].Ratio)))
			i++
		} else {
			parts = append(parts, fmt.Sprintf("%d: ⚠", x.Left[j]))
			j++
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

// baseMarkdown renders the before/after comparison: what was compared, how,
// and a row per configuration and figure.
func (r *report) baseMarkdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	br := r.Base
	p("## Before/after (`bench/compare -base`)\n\n")
	p("Generated on %s by\n\n```sh\n%s\n```\n\n", r.Machine.Date.Format("2006-01-02 15:04 MST"), r.Command)
	p("- tokamak: `./cmd/server` built from the working tree%s; tokamak (base): `%s`%s. Both run the same way (`GOMAXPROCS=1`, `-loops 1`, the same flags and pinning), each run against a fresh server on a fresh port.\n",
		revisionText(br.TokamakRevision), br.Binary, revisionText(br.Revision))
	p("- %d repetition(s) of %s per run, %s in all (build included); in every configuration the two builds run back to back, in reverse order every other repetition, so that over an even number of repetitions a drift of the machine's speed favours neither.\n",
		r.Reps, r.Duration, (time.Duration(r.Elapsed) * time.Second).String())
	p("%s", r.Machine.line())
	p("- Pinning: %s\n", r.Pinning)
	r.notes(&b)
	p("- Each ratio is tokamak's figure over the base build's in the same repetition: median (min–max) over the repetitions, then each repetition's ratio. Below 1 is better for CPU per request and KB per connection, above 1 for req/s. ⚠: a run of the pair had errors or failed and is left out (see the tables).\n\n")
	if len(br.Ratios) == 0 {
		p("No configuration ran both builds.\n")
		return b.String()
	}
	format := func(fig string) func(float64) string {
		if fig == figRate {
			return fmtInt
		}
		return fmtSig
	}
	writeTable(&b, []column[BaseRatio]{
		{"config", func(x BaseRatio) string { return x.Config }},
		{"figure", func(x BaseRatio) string { return x.What }},
		{displayName(baseName), func(x BaseRatio) string { return fmtSpread(x.Base, format(x.Figure)) }},
		{"tokamak", func(x BaseRatio) string { return fmtSpread(x.Tokamak, format(x.Figure)) }},
		{"tokamak / base", func(x BaseRatio) string { return fmtSpread(x.Ratio, fmtRatio) }},
		{"per repetition", BaseRatio.perRepText},
	}, br.Ratios)
	return b.String()
}

func revisionText(rev string) string {
	if rev == "" {
		return ""
	}
	return " (revision " + rev + ")"
}

// revision is the VCS revision a Go binary was built from, shortened, with
// "+modified" when its tree had changes; "" when it does not say.
func revision(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return ""
	}
	var rev, mod string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				mod = "+modified"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev[:min(len(rev), 12)] + mod
}

// checkBase resolves -base to an absolute path and checks that it is an
// executable file.
func checkBase(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	switch {
	case err != nil:
		return "", err
	case !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0:
		return "", errors.New("not an executable file")
	}
	return abs, nil
}
