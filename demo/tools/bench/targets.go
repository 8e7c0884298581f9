package main

import (
	"fmt"
	"strings"
)

// The targets the chains are held to.
const (
	maxCPUVsFloor      = 1.10 // storeaffinity's CPU per request over its floor's
	maxCPUVsNoMetrics  = 1.02 // storeaffinity's CPU per request over the same chain's without counting for the metrics
	maxP99VsSecondHop  = 0.90 // storeaffinity's stateful p99 over the second hop's
	maxRSSGrowthAt10k  = 20.0 // MB of Traefik's resident memory after 10k stores
	maxRSSGrowthAt100k = 50.0 // MB after 100k stores: bounded, not growing with them
)

// floorOf names the do-nothing chain that a variant's CPU is compared with: the one
// with the same weighted service.
func floorOf(name string) string {
	if strings.HasSuffix(name, "-100") {
		return "floor-100"
	}
	return "floor"
}

// cpuRatio is the median over the rounds of name's CPU per request over base's in the
// same round.
func cpuRatio(samples map[string][]sample, name, base string) float64 {
	return ratio(samples, name, base, func(s sample) float64 { return float64(s.cpuPerRequest) })
}

// p99Ratio is the median over the rounds of name's p99 over base's in the same round.
func p99Ratio(samples map[string][]sample, name, base string) float64 {
	return ratio(samples, name, base, func(s sample) float64 { return float64(s.p99) })
}

// ratio is the median over the rounds of figure(name) over figure(base) in the same
// round.
func ratio(samples map[string][]sample, name, base string, figure func(sample) float64) float64 {
	var ratios []float64
	for i, s := range samples[name] {
		ratios = append(ratios, figure(s)/figure(samples[base][i]))
	}
	return median(ratios)
}

// targets renders the run's figures against the targets.
func targets(samples map[string][]sample, extras extraFigures) string {
	var b strings.Builder
	b.WriteString("\n### Against the targets (this run)\n\n| target | measured | met |\n|---|---|---|\n")
	row := func(target string, measured float64, limit float64) {
		fmt.Fprintf(&b, "| %s | %.2f | %s |\n", target, measured, yes(measured <= limit))
	}
	for _, name := range []string{"ours-stateful-3", "ours-stateless-3", "ours-stateful-100", "ours-stateless-100"} {
		row(fmt.Sprintf("%s: CPU per request <= %.2f x %s", name, maxCPUVsFloor, floorOf(name)), cpuRatio(samples, name, floorOf(name)), maxCPUVsFloor)
	}
	for _, name := range []string{"ours-stateful-3", "ours-stateless-3"} {
		row(fmt.Sprintf("%s: CPU per request <= %.2f x %s-nometrics (counting for the metrics)", name, maxCPUVsNoMetrics, name), cpuRatio(samples, name, name+"-nometrics"), maxCPUVsNoMetrics)
	}
	for _, name := range []string{"least-stateful-3", "least-stateless-3"} {
		row(fmt.Sprintf("%s (a lower bound for interpreted code): CPU <= %.2f x floor", name, maxCPUVsFloor), cpuRatio(samples, name, "floor"), maxCPUVsFloor)
	}
	for _, name := range []string{"ours-stateful-3", "ours-stateful-100"} {
		row(fmt.Sprintf("%s: p99 <= %.2f x second-hop", name, maxP99VsSecondHop), p99Ratio(samples, name, "second-hop"), maxP99VsSecondHop)
	}
	// The fast path's targets.
	row("split-stateless-3: CPU per request <= 1.00 x floor", cpuRatio(samples, "split-stateless-3", "floor"), 1.00)
	row(fmt.Sprintf("split-stateful-3: CPU per request <= %.2f x least-stateful-3", maxCPUVsFloor), cpuRatio(samples, "split-stateful-3", "least-stateful-3"), maxCPUVsFloor)
	row(fmt.Sprintf("split-mix-3: CPU per request <= %.2f x floor", maxCPUVsFloor), cpuRatio(samples, "split-mix-3", "floor"), maxCPUVsFloor)
	row(fmt.Sprintf("split-mix-3: p99 <= %.2f x second-hop", maxP99VsSecondHop), p99Ratio(samples, "split-mix-3", "second-hop"), maxP99VsSecondHop)
	fmt.Fprintf(&b, "| Traefik's memory after 10k stores <= +%.0f MB | %+.1f MB | %s |\n", maxRSSGrowthAt10k, extras.rssGrowth[10000], yes(extras.rssGrowth[10000] <= maxRSSGrowthAt10k))
	fmt.Fprintf(&b, "| Traefik's memory after 100k stores bounded (<= +%.0f MB) | %+.1f MB | %s |\n", maxRSSGrowthAt100k, extras.rssGrowth[100000], yes(extras.rssGrowth[100000] <= maxRSSGrowthAt100k))
	return b.String()
}

func yes(met bool) string {
	if met {
		return "yes"
	}
	return "no"
}
