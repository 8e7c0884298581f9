package provider

import (
	"context"
	"sort"
)

// member is one backend replica: a stable name and the URL Traefik sends requests to.
type member struct {
	Name string
	URL  string
}

// source discovers the members of one app. run reports the complete member list
// through update each time it learns it, and returns when ctx ends. A source never
// reports a list it is unsure of: on errors it keeps quiet, so the last good list stays.
type source interface {
	run(ctx context.Context, update func([]member))
}

// sortMembers sorts members by name and drops later duplicates of a name.
func sortMembers(members []member) []member {
	sorted := make([]member, len(members))
	copy(sorted, members)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	out := sorted[:0]
	for _, m := range sorted {
		if len(out) > 0 && out[len(out)-1].Name == m.Name {
			continue
		}
		out = append(out, m)
	}
	return out
}
