package yaegi

import (
	"fmt"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// place returns, for each device ID, its store, its member and the store's hash, or
// the error of its store. The tests run it compiled and, read from this file, under
// Yaegi with the interpreted hashing package.
func place(strategy string, members []string, devices []string) ([]string, error) {
	picker, err := hashing.New(strategy, members)
	if err != nil {
		return nil, err
	}
	stores, err := hashing.NewStoreDeriver("")
	if err != nil {
		return nil, err
	}
	out := make([]string, len(devices))
	for i, device := range devices {
		store, err := stores.Store(device)
		if err != nil {
			out[i] = "error: " + err.Error()
			continue
		}
		out[i] = store + " " + picker.Members()[picker.Pick(store)] + " " + fmt.Sprint(hashing.Hash64(store))
	}
	return out, nil
}
