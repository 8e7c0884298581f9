package yaegi

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/hashing"
)

func TestHashingCompiledEqualsInterpreted(t *testing.T) {
	source, err := os.ReadFile("place.go")
	if err != nil {
		t.Fatal(err)
	}
	i := newInterpreter(t)
	// the file without its package clause, evaluated in Yaegi's main package
	if _, err := i.Eval(strings.TrimPrefix(string(source), "package yaegi\n")); err != nil {
		t.Fatal(err)
	}
	interpreted := mustEval(t, i, "place").Interface().(func(string, []string, []string) ([]string, error))
	devices := make([]string, 10000)
	for n := range devices {
		devices[n] = fmt.Sprintf("%05d-%03d", n*7, n%1000)
	}
	devices[17] = "no-separator" // a store "no" and device "separator"
	devices[18] = "nodash"
	for _, strategy := range []string{hashing.StrategyRendezvous, hashing.StrategyModulo} {
		for _, n := range []int{3, 10, 100} {
			members := make([]string, n)
			for m := range members {
				members[m] = fmt.Sprintf("pos-%d", m)
			}
			want, err := place(strategy, members, devices)
			if err != nil {
				t.Fatal(err)
			}
			got, err := interpreted(strategy, members, devices)
			if err != nil {
				t.Fatal(err)
			}
			for k := range want {
				if got[k] != want[k] {
					t.Fatalf("%s, %d members, device %s: interpreted %q, compiled %q", strategy, n, devices[k], got[k], want[k])
				}
			}
		}
	}
}
