package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/hashing"
)

func TestStatusShowsADisabledMiddlewareAndFails(t *testing.T) {
	out, err := run(t, "status", "--traefik="+disabledTraefik(t), "--stores=100")
	checkDisabledError(t, err)
	for _, want := range []string{"pos-affinity@plugin-storeaffinityprovider: Traefik status disabled", "Traefik error: " + pluginError} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	for _, live := range []string{"members", "UP", "%"} {
		if strings.Contains(out, live) {
			t.Errorf("status shows the disabled middleware as live (%q):\n%s", live, out)
		}
	}
}

// TestStatusShowsTraefiksStatusAndErrors: a middleware Traefik routes through, with
// warnings, shows its members and shares with Traefik's status and errors beside them.
func TestStatusShowsTraefiksStatusAndErrors(t *testing.T) {
	members := []string{"pos-pos-0", "pos-pos-1"}
	base := fakeTraefik(t, []any{
		apiMiddlewareAnswer("a@file", "enabled", "rendezvous", members),
		apiMiddlewareAnswer("b@file", "warning", "rendezvous", members, "service pos-pos-1@file: no healthy server"),
	}, map[string]any{
		"pos-pos-0@file": apiServiceAnswer("http://10.0.0.5:8080", "UP"),
		"pos-pos-1@file": apiServiceAnswer("http://10.0.0.6:8080", "DOWN"),
	})
	out, err := run(t, "status", "--traefik="+base, "--stores=100")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, want := range []string{
		"a@file: 2 members (rendezvous), stores synthetic 00000..00099, Traefik status enabled",
		"b@file: 2 members (rendezvous), stores synthetic 00000..00099, Traefik status warning\n  Traefik error: service pos-pos-1@file: no healthy server\n",
		"pos-pos-1  pos-pos-1@file  http://10.0.0.6:8080 DOWN",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestStatusSharesFollowModulo: the stores status gives each member are those modulo
// places there, not rendezvous'.
func TestStatusSharesFollowModulo(t *testing.T) {
	members := []string{"pos-pos-0", "pos-pos-1", "pos-pos-2"}
	services := map[string]any{}
	for i, m := range members {
		services[m+"@file"] = apiServiceAnswer(fmt.Sprintf("http://10.0.0.%d:8080", i+5), "UP")
	}
	base := fakeTraefik(t, []any{apiMiddlewareAnswer("pos-affinity@file", "enabled", hashing.StrategyModulo, members)}, services)
	out, err := run(t, "status", "--traefik="+base, "--stores=1000")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	modulo, rendezvous := shares(t, hashing.StrategyModulo, members, 1000), shares(t, hashing.StrategyRendezvous, members, 1000)
	if fmt.Sprint(modulo) == fmt.Sprint(rendezvous) {
		t.Fatalf("modulo and rendezvous give the same shares %v: the test tells nothing", modulo)
	}
	row := regexp.MustCompile(`(?m)^(pos-pos-\d) .* \((\d+)\)$`)
	printed := map[string]string{}
	for _, match := range row.FindAllStringSubmatch(out, -1) {
		printed[match[1]] = match[2]
	}
	for _, m := range members {
		if printed[m] != fmt.Sprint(modulo[m]) {
			t.Errorf("%s: status gives %q stores, modulo places %d there (rendezvous %d)\n%s", m, printed[m], modulo[m], rendezvous[m], out)
		}
	}
}

// shares counts the synthetic stores 00000.. that strategy places on each member.
func shares(t *testing.T, strategy string, members []string, stores int) map[string]int {
	t.Helper()
	picker, err := hashing.New(strategy, members)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for i := 0; i < stores; i++ {
		counts[picker.Members()[picker.Pick(fmt.Sprintf("%05d", i))]]++
	}
	return counts
}
