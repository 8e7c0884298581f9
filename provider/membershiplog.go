package provider

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// logMembership writes one line when an app's member list changes, to the provider's
// standard output, which Traefik logs at DEBUG: the members added and removed, and why
// (discovery, health check, panic threshold). The middleware's own line then says
// which live stores moved and when they end.
func logMembership(w io.Writer, app string, before, after []member, reason string) {
	was := map[string]bool{}
	for _, m := range before {
		was[m.Name] = true
	}
	var added, removed []string
	for _, m := range after {
		if !was[m.Name] {
			added = append(added, m.Name)
		}
		delete(was, m.Name)
	}
	for name := range was {
		removed = append(removed, name)
	}
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	sort.Strings(added)
	sort.Strings(removed)
	_, _ = fmt.Fprintf(w, "storeaffinity provider: app %s: members +[%s] -[%s] (%s); %d members now\n",
		app, strings.Join(added, " "), strings.Join(removed, " "), reason, len(after))
}

// withoutTakenNames returns members without those whose service would take the name
// of a service the provider emits itself, and writes one line to w when the members
// so left out change; refused holds the last such line per app.
func withoutTakenNames(w io.Writer, app string, members []member, refused map[string]string) []member {
	kept := []member{}
	var names []string
	for _, m := range members {
		if takesGeneratedName(app, m.Name) {
			names = append(names, m.Name)
		} else {
			kept = append(kept, m)
		}
	}
	if line := strings.Join(names, " "); line != refused[app] {
		refused[app] = line
		if line != "" {
			_, _ = fmt.Fprintf(w, "storeaffinity provider: app %s: members [%s] left out: the service of each would take the name of the app's round-robin service %s; rename them\n",
				app, line, RoundRobinService(app))
		}
	}
	return kept
}
