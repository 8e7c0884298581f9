package commerce

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ReadEvents reads a server-sent event stream of Events from r and calls each for
// every event as it arrives, until the stream ends or each returns an error.
func ReadEvents(r io.Reader, each func(Event) error) error {
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		data, ok := strings.CutPrefix(scanner.Text(), "data: ")
		if !ok {
			continue
		}
		var event Event
		if err := json.Unmarshal([]byte(data), &event); err != nil {
			return fmt.Errorf("decode event %q: %w", data, err)
		}
		if err := each(event); err != nil {
			return err
		}
	}
	return scanner.Err()
}
