package main

import (
	"fmt"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuTime returns a process's user plus system CPU time.
func cpuTime(pid int) (time.Duration, error) { return stack.CPUTime(pid) }

// rss returns a process's resident memory in bytes, from /proc/<pid>/status.
func rss(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
