package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
)

// printPlacement prints, per replica, its stores and load. With previous set, stores
// that moved are marked with '*'.
func (d *demo) printPlacement(owner, previous map[string]string) {
	byReplica := map[string][]string{}
	for store, replica := range owner {
		byReplica[replica] = append(byReplica[replica], store)
	}
	rest := d.load.ByReplica()
	w := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "    replica\tstores\tWebSockets\tREST calls\tstores (* = moved here)")
	for _, replica := range replicaNames {
		stores := byReplica[replica]
		if len(stores) == 0 && rest[replica] == 0 {
			continue
		}
		sort.Strings(stores)
		labels := make([]string, len(stores))
		for i, store := range stores {
			labels[i] = store
			if previous != nil && previous[store] != replica {
				labels[i] += "*"
			}
		}
		fmt.Fprintf(w, "    %s\t%d\t%d\t%d\t%s\n", replica, len(stores), 2*len(stores), rest[replica], abbreviate(labels, 12))
	}
	_ = w.Flush()
}

// abbreviate joins the first n labels and says how many more there are.
func abbreviate(labels []string, n int) string {
	if len(labels) <= n {
		return strings.Join(labels, " ")
	}
	return strings.Join(labels[:n], " ") + fmt.Sprintf(" ... (+%d)", len(labels)-n)
}

// printTryIt prints URLs to try while the demo holds.
func (d *demo) printTryIt() {
	base := d.traefik.WebURL
	fmt.Fprintf(d.out, `
The demo keeps running; press Ctrl-C to stop. Try:
  curl -i %[1]s%[2]s/00123-001/ticket     # a POS call: X-Store-Affinity names the store's member
  curl -i %[1]s%[2]s/00123-002/ticket     # its CX display: the same member
  curl -s %[1]s/api/catalog                          # stateless: round-robin over the members
  curl -i %[1]s%[2]s/..%%2F-001/ticket      # a bad device ID: 400 with the reason
  curl -s %[3]s/api/http/middlewares/%[4]s     # the live member list in Traefik's API
`, base, commerce.Prefix, d.traefik.API.BaseURL, app+"-affinity@plugin-storeaffinityprovider")
}
