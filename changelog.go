package storeaffinity

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// logChange writes one line per membership change to Traefik's log (a plugin's
// standard output, which Traefik logs at DEBUG): the members added and removed, how
// many live stores moved, and when their requests end. Never a line per store.
func logChange(w io.Writer, name string, change *hashing.Change, moved int, grace time.Duration, from, to time.Time) {
	added, removed := change.Added(), change.Removed()
	sort.Strings(removed)
	when := "keep running (rebalanceGrace off)"
	switch {
	case moved == 0:
		when = "nothing to end"
	case grace <= 0:
	case from.Equal(to):
		when = "their live requests end at " + from.UTC().Format("15:04:05.000")
	default:
		when = "their live requests end between " + from.UTC().Format("15:04:05.000") + " and " + to.UTC().Format("15:04:05.000")
	}
	_, _ = fmt.Fprintf(w, "storeaffinity %s: members +[%s] -[%s]; %d live stores moved; %s\n",
		name, strings.Join(added, " "), strings.Join(removed, " "), moved, when)
}
