package provider

import "strings"

// splitList flattens a list whose items may themselves be comma-separated, as labels
// and command-line flags deliver lists, trimming spaces and dropping empty items.
func splitList(items []string) []string {
	var out []string
	for _, item := range items {
		for _, part := range strings.Split(item, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
