package provider

import (
	"sort"
	"strings"
	"testing"
	"time"
)

// memberReports returns a channel and a report function for a source's run: each
// report arrives as the member names, sorted, duplicates kept, joined by commas.
func memberReports() (chan string, func([]member)) {
	reports := make(chan string, 100)
	return reports, func(members []member) {
		var names []string
		for _, m := range members {
			names = append(names, m.Name)
		}
		sort.Strings(names)
		reports <- strings.Join(names, ",")
	}
}

// expectReport fails t unless the next report is want, within timeout.
func expectReport(t *testing.T, reports <-chan string, want string, timeout time.Duration) {
	t.Helper()
	select {
	case got := <-reports:
		if got != want {
			t.Fatalf("reported members %q, want %q", got, want)
		}
	case <-time.After(timeout):
		t.Fatalf("no report of %q within %v", want, timeout)
	}
}
