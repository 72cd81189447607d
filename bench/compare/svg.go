package main

import (
	"encoding/xml"
	"fmt"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	svgWidth   = 980
	svgLabelW  = 390 // the row labels, left of the plot
	svgPlotX0  = svgLabelW + 10
	svgPlotX1  = 830
	svgRowH    = 26
	svgTop     = 58
	svgBottom  = 56
	colMet     = "#2e7d32"
	colMissed  = "#c62828"
	colNone    = "#757575"
	colMetZone = "#e8f5e9"
)

// ratioSVG draws every verdict as a row on one logarithmic axis: the
// median as a dot and the range as a line, coloured by the verdict, the
// target as a tick, and the side of it where the target is met shaded.
func ratioSVG(vs []Verdict) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		for _, x := range []float64{v.Value, v.Got.Min, v.Got.Max} {
			if x > 0 {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 1
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi <= dlo {
		dhi = dlo + 1
	}
	xOf := func(v float64) float64 {
		f := (math.Log10(v) - dlo) / (dhi - dlo)
		return svgPlotX0 + f*(svgPlotX1-svgPlotX0)
	}
	height := svgTop + len(vs)*svgRowH + svgBottom
	plotBottom := svgTop + len(vs)*svgRowH

	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	p(`<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", svgWidth, height)
	p(`<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", 10,
		esc("tokamak against DESIGN.md §8: ratios per repetition (median, min–max)"))
	p(`<text x="%d" y="40" fill="%s">%s</text>`+"\n", 10, colNone,
		esc("log scale; tick = target, shaded = where the target is met; idle memory in KB per connection"))

	// Grid: 1, 2 and 5 times each power of ten, labelled at the powers.
	for d := dlo; d <= dhi; d++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, d)
			if d == dhi && m > 1 {
				break
			}
			x := xOf(v)
			stroke, w := "#eeeeee", 1
			if m == 1 {
				stroke = "#bdbdbd"
			}
			p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="%d"/>`+"\n", x, svgTop-4, x, plotBottom, stroke, w)
			if m == 1 {
				p(`<text x="%.1f" y="%d" text-anchor="middle" fill="#424242">%s</text>`+"\n", x, plotBottom+16, esc(trimFloat(v)+"×"))
			}
		}
	}

	for i, v := range vs {
		y := svgTop + i*svgRowH
		mid := float64(y) + svgRowH/2
		label := fmt.Sprintf("%s · %s (%s)", v.Config, v.What, v.bound())
		p(`<text x="%d" y="%.1f" dominant-baseline="middle">%s</text>`+"\n", 10, mid, esc(label))
		// The zone where the target is met.
		tx := xOf(v.Value)
		if v.AtLeast {
			p(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", tx, y+3, svgPlotX1-tx, svgRowH-6, colMetZone)
		} else {
			p(`<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", svgPlotX0, y+3, tx-svgPlotX0, svgRowH-6, colMetZone)
		}
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#212121" stroke-width="2"/>`+"\n", tx, y+2, tx, y+svgRowH-2)

		unit := "×"
		if v.Peer == "" {
			unit = " KB"
		}
		col := colNone
		switch v.Status {
		case statusMet:
			col = colMet
		case statusMissed:
			col = colMissed
		}
		value := v.Status
		if v.Got.N > 0 {
			p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n",
				xOf(v.Got.Min), mid, xOf(v.Got.Max), mid, col)
			p(`<circle cx="%.1f" cy="%.1f" r="5" fill="%s"/>`+"\n", xOf(v.Got.Med), mid, col)
			value = fmtSig(v.Got.Med) + unit + " " + v.Status
		} else {
			p(`<text x="%.1f" y="%.1f" dominant-baseline="middle" fill="%s">%s</text>`+"\n", float64(svgPlotX0)+6, mid, colNone, esc(v.Note))
		}
		p(`<text x="%d" y="%.1f" dominant-baseline="middle" fill="%s" font-weight="bold">%s</text>`+"\n", svgPlotX1+10, mid, col, esc(value))
	}
	p(`<text x="%d" y="%d" fill="%s">%s</text>`+"\n", 10, height-12, colNone,
		esc("HTTP CPU: tokamak's server CPU per request over gnet raw's; req/s and calls/s: tokamak over the peer; wrk rows: bench/load over wrk"))
	p("</svg>\n")
	return b.String()
}

// esc escapes text for SVG character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
