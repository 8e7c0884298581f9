package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// sample is one variant's wrk run with the proxies' CPU time per request.
type sample struct {
	load
	cpuPerRequest time.Duration
}

// runBench runs the rounds and the extras and reports them. With only (variants'
// names, comma-separated) it runs those variants alone, without the extras, and
// reports them in the metrics cost section.
func runBench(rounds int, duration time.Duration, out, only string) error {
	run := variants
	if only != "" {
		names := strings.Split(only, ",")
		for _, name := range names {
			if _, ok := description[name]; !ok {
				return fmt.Errorf("-only: no variant %q", name)
			}
		}
		run = nil
		for _, v := range variants {
			if slices.Contains(names, v.name) {
				run = append(run, v)
			}
		}
	}
	ctx := context.Background()
	s, err := start(ctx, false)
	if err != nil {
		return err
	}
	defer s.stop()
	started := time.Now()
	samples := map[string][]sample{}
	for round := 1; round <= rounds; round++ {
		for _, v := range run {
			got, err := s.measure(v, duration)
			if err != nil {
				return err
			}
			samples[v.name] = append(samples[v.name], got)
			fmt.Fprintf(os.Stderr, "round %d %-26s %8.0f req/s  p50 %-8v p99 %-8v  cpu %v/req\n", round, v.name, got.perSecond, got.p50, got.p99, got.cpuPerRequest)
		}
	}
	if only != "" {
		report := onlyReport(samples, run, started, rounds, duration, only, out)
		if out == "" {
			fmt.Print(report)
			return nil
		}
		return writeSection(out, metricsStart, metricsEnd, report)
	}
	extras, err := s.extras(duration)
	if err != nil {
		return err
	}
	report := markdown(samples, rounds, duration, extras)
	if out == "" {
		fmt.Print(report)
		return nil
	}
	return writeSection(out, sectionStart, sectionEnd, report)
}

// measure runs wrk against one variant and reads the CPU time of every proxy process
// of its chain.
func (s *setup) measure(v variant, d time.Duration) (sample, error) {
	script, err := wrkScript(s.dir, v)
	if err != nil {
		return sample{}, err
	}
	pids := []int{s.traefik.PID()}
	if v.hop {
		pids = append(pids, s.proxyPID)
	}
	before, err := totalCPU(pids)
	if err != nil {
		return sample{}, err
	}
	l, err := runWrk(s.traefik.URLs[v.name], script, d)
	if err != nil {
		return sample{}, err
	}
	after, err := totalCPU(pids)
	if err != nil {
		return sample{}, err
	}
	return sample{load: l, cpuPerRequest: time.Duration(float64(after-before) / l.requests)}, nil
}

func totalCPU(pids []int) (time.Duration, error) {
	var total time.Duration
	for _, pid := range pids {
		t, err := cpuTime(pid)
		if err != nil {
			return 0, err
		}
		total += t
	}
	return total, nil
}

func median(values []float64) float64 {
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// markdown renders the results: medians over the rounds, and each variant's CPU per
// request against the floor as the median of the per-round ratios.
func markdown(samples map[string][]sample, rounds int, duration time.Duration, extras extraFigures) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Through real Traefik (`make bench`)\n\n")
	fmt.Fprintf(&b, "Measured %s on %s; Traefik %s, Go %s, `wrk -t1 -c16 -d%v --latency`, %d alternating rounds, medians. CPU per request is the Traefik process's own CPU time from /proc (both proxies' for the second hop), divided by the requests wrk completed; `vs floor` is the median of the per-round ratios to the floor. Requests carry `Accept: application/json` and a client cookie, as a browser's do; stateful ones cycle through 1000 devices.\n\n",
		time.Now().UTC().Format("2006-01-02"), machine(), stack.TraefikVersion(), runtime.Version(), duration, rounds)
	fmt.Fprintf(&b, "```sh\nmake bench    # cd demo && go run ./tools/bench -rounds %d -duration %v -out ../BENCHMARKS.md\n```\n\n", rounds, duration)
	chainTable(&b, samples, variants)
	b.WriteString("\n`vs floor` compares a 100-member chain with the do-nothing plugin over the 100-member weighted service, every other chain with the 3-member floor; `vs plain` compares every chain with the plain load-balancer service. The split chains are the provider's two routers (the fast path): stateless requests go to a plain round-robin service through a compiled headers middleware, never entering the interpreter.\n\n")
	if line, ok := metricsCost(samples); ok {
		b.WriteString(line + "\n\n")
	}
	for _, e := range extras.lines {
		b.WriteString("- " + e + "\n")
	}
	b.WriteString(targets(samples, extras))
	return b.String()
}

// chainTable renders the medians over the rounds of the variants run; a ratio to a
// chain that was not run shows as "-".
func chainTable(b *strings.Builder, samples map[string][]sample, run []variant) {
	b.WriteString("| chain | req/s | p50 | p99 | CPU/request | vs floor | vs plain |\n|---|---|---|---|---|---|---|\n")
	cell := func(name, base string) string {
		if len(samples[base]) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", cpuRatio(samples, name, base))
	}
	for _, v := range run {
		var rate, p50, p99, cpu []float64
		for _, s := range samples[v.name] {
			rate = append(rate, s.perSecond)
			p50 = append(p50, float64(s.p50))
			p99 = append(p99, float64(s.p99))
			cpu = append(cpu, float64(s.cpuPerRequest))
		}
		fmt.Fprintf(b, "| %s | %.0f | %v | %v | %.0f µs | %s | %s |\n", description[v.name], median(rate),
			time.Duration(median(p50)).Round(10*time.Microsecond), time.Duration(median(p99)).Round(10*time.Microsecond),
			median(cpu)/1e3, cell(v.name, floorOf(v.name)), cell(v.name, "plain"))
	}
}

// metricsCost is the line of what the middleware's counting for the metrics costs,
// when both pairs of chains were run.
func metricsCost(samples map[string][]sample) (string, bool) {
	for _, name := range []string{"ours-stateful-3", "ours-stateless-3"} {
		if len(samples[name]) == 0 || len(samples[name+"-nometrics"]) == 0 {
			return "", false
		}
	}
	return fmt.Sprintf("counting for the metrics: stateful %.2f x, stateless %.2f x the same chain without it (median of per-round ratios)",
		cpuRatio(samples, "ours-stateful-3", "ours-stateful-3-nometrics"), cpuRatio(samples, "ours-stateless-3", "ours-stateless-3-nometrics")), true
}

// onlyReport renders a run of some variants only: the table and what counting costs.
func onlyReport(samples map[string][]sample, run []variant, started time.Time, rounds int, duration time.Duration, only, out string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s to %s on %s; Traefik %s, Go %s, `wrk -t1 -c16 -d%v --latency`, %d alternating rounds of these chains only, medians, as in the table above.\n\n",
		started.UTC().Format("2006-01-02 15:04"), time.Now().UTC().Format("15:04 MST"), machine(), stack.TraefikVersion(), runtime.Version(), duration, rounds)
	command := fmt.Sprintf("cd demo && go run ./tools/bench -rounds %d -duration %v -only %s", rounds, duration, only)
	if out != "" {
		command += " -out ../BENCHMARKS.md"
	}
	fmt.Fprintf(&b, "```sh\n%s\n```\n\n", command)
	chainTable(&b, samples, run)
	if line, ok := metricsCost(samples); ok {
		b.WriteString("\n" + line + "\n")
	}
	return b.String()
}

func machine() string {
	model := runtime.GOARCH
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "model name\t: "); ok {
				model = name
				break
			}
		}
	}
	wrk, _ := exec.Command("wrk", "--version").CombinedOutput()
	return fmt.Sprintf("%d cores (%s), %s", runtime.NumCPU(), model, strings.SplitN(string(wrk), " Copyright", 2)[0])
}

const (
	sectionStart = "<!-- make bench: start -->"
	sectionEnd   = "<!-- make bench: end -->"
	metricsStart = "<!-- metrics cost -->"
	metricsEnd   = "<!-- /metrics cost -->"
)

// writeSection replaces the section of path between sectionStart and sectionEnd, or
// adds it after the title.
func writeSection(path, sectionStart, sectionEnd, report string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(data)
	section := sectionStart + "\n" + report + sectionEnd
	if i, j := strings.Index(text, sectionStart), strings.Index(text, sectionEnd); i >= 0 && j > i {
		text = text[:i] + section + text[j+len(sectionEnd):]
	} else if k := strings.Index(text, "\n\n"); k >= 0 {
		text = text[:k+2] + section + "\n\n" + text[k+2:]
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
