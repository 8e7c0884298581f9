package yaegi

import (
	"fmt"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// placeSource is evaluated under Yaegi: it places device IDs with the interpreted
// hashing package.
const placeSource = `
func place(strategy string, members []string, devices []string) []string {
	picker, err := hashing.New(strategy, members)
	if err != nil {
		panic(err)
	}
	stores, _ := hashing.NewStoreDeriver("")
	out := make([]string, len(devices))
	for i, device := range devices {
		store, err := stores.Store(device)
		if err != nil {
			out[i] = "error: " + err.Error()
			continue
		}
		out[i] = store + " " + picker.Members()[picker.Pick(store)] + " " + fmt.Sprint(hashing.Hash64(store))
	}
	return out
}`

func placeCompiled(t *testing.T, strategy string, members []string, devices []string) []string {
	picker, err := hashing.New(strategy, members)
	if err != nil {
		t.Fatal(err)
	}
	stores, _ := hashing.NewStoreDeriver("")
	out := make([]string, len(devices))
	for i, device := range devices {
		store, err := stores.Store(device)
		if err != nil {
			out[i] = "error: " + err.Error()
			continue
		}
		out[i] = store + " " + picker.Members()[picker.Pick(store)] + " " + fmt.Sprint(hashing.Hash64(store))
	}
	return out
}

func TestHashingCompiledEqualsInterpreted(t *testing.T) {
	i := newInterpreter(t, stack.MiddlewareModule+"/hashing", "fmt")
	if _, err := i.Eval(placeSource); err != nil {
		t.Fatal(err)
	}
	place := mustEval(t, i, "place").Interface().(func(string, []string, []string) []string)
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
			want := placeCompiled(t, strategy, members, devices)
			got := place(strategy, members, devices)
			for k := range want {
				if got[k] != want[k] {
					t.Fatalf("%s, %d members, device %s: interpreted %q, compiled %q", strategy, n, devices[k], got[k], want[k])
				}
			}
		}
	}
}
