package fleet

import (
	"context"
	"fmt"
	"sort"
)

// Device suffixes of the two devices of every store.
const (
	POS = "001"
	CX  = "002"
)

// StoreIDs returns n store IDs: 00000, 00001, ...
func StoreIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%05d", i)
	}
	return ids
}

// Devices returns the device IDs of a store: its POS and its customer display.
func Devices(store string) []string {
	return []string{store + "-" + POS, store + "-" + CX}
}

// Fleet holds the WebSockets of every device of a set of stores.
type Fleet struct {
	Stores  []string
	Sockets map[string]*Socket // by device ID
	cancel  context.CancelFunc
}

// Connect opens and keeps the WebSockets of every device of stores until Close.
func (c *Client) Connect(ctx context.Context, stores []string) *Fleet {
	ctx, cancel := context.WithCancel(ctx)
	f := &Fleet{Stores: stores, Sockets: map[string]*Socket{}, cancel: cancel}
	for _, store := range stores {
		for _, device := range Devices(store) {
			f.Sockets[device] = c.Hold(ctx, device)
		}
	}
	return f
}

// Close closes every WebSocket.
func (f *Fleet) Close() { f.cancel() }

// Placement returns, per store, the replica of each device's open WebSocket ("" when
// not connected), in the order of Devices.
func (f *Fleet) Placement() map[string][]string {
	out := map[string][]string{}
	for _, store := range f.Stores {
		for _, device := range Devices(store) {
			conn, _ := f.Sockets[device].Current()
			out[store] = append(out[store], conn.Replica)
		}
	}
	return out
}

// Together returns, per store, the replica that holds all its devices' WebSockets, and
// the stores whose devices are not connected or not together.
func (f *Fleet) Together() (owner map[string]string, apart []string) {
	owner = map[string]string{}
	for store, replicas := range f.Placement() {
		together := replicas[0] != ""
		for _, r := range replicas[1:] {
			together = together && r == replicas[0]
		}
		if together {
			owner[store] = replicas[0]
		} else {
			apart = append(apart, store)
		}
	}
	sort.Strings(apart)
	return owner, apart
}
