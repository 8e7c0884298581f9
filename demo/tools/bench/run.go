package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
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

// runBench runs the rounds and the extras and reports them.
func runBench(rounds int, duration time.Duration, out string) error {
	ctx := context.Background()
	s, err := start(ctx, false)
	if err != nil {
		return err
	}
	defer s.stop()
	samples := map[string][]sample{}
	for round := 1; round <= rounds; round++ {
		for _, v := range variants {
			got, err := s.measure(v, duration)
			if err != nil {
				return err
			}
			samples[v.name] = append(samples[v.name], got)
			fmt.Fprintf(os.Stderr, "round %d %-20s %8.0f req/s  p50 %-8v p99 %-8v  cpu %v/req\n", round, v.name, got.perSecond, got.p50, got.p99, got.cpuPerRequest)
		}
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
	return writeSection(out, report)
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
	b.WriteString("| chain | req/s | p50 | p99 | CPU/request | vs floor | vs plain |\n|---|---|---|---|---|---|---|\n")
	for _, v := range variants {
		got := samples[v.name]
		var rate, p50, p99, cpu []float64
		for _, s := range got {
			rate = append(rate, s.perSecond)
			p50 = append(p50, float64(s.p50))
			p99 = append(p99, float64(s.p99))
			cpu = append(cpu, float64(s.cpuPerRequest))
		}
		fmt.Fprintf(&b, "| %s | %.0f | %v | %v | %.0f µs | %.2f | %.2f |\n", description[v.name], median(rate),
			time.Duration(median(p50)).Round(10*time.Microsecond), time.Duration(median(p99)).Round(10*time.Microsecond),
			median(cpu)/1e3, cpuRatio(samples, v.name, floorOf(v.name)), cpuRatio(samples, v.name, "plain"))
	}
	b.WriteString("\n`vs floor` compares a 100-member chain with the do-nothing plugin over the 100-member weighted service, every other chain with the 3-member floor; `vs plain` compares every chain with the plain load-balancer service. The split chains are the provider's two routers (the fast path): stateless requests go to a plain round-robin service through a compiled headers middleware, never entering the interpreter.\n\n")
	for _, e := range extras.lines {
		b.WriteString("- " + e + "\n")
	}
	b.WriteString(targets(samples, extras))
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
)

// writeSection replaces the bench's section of path, or adds it after the title.
func writeSection(path, report string) error {
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
