// Package hashing holds the pure functions of store affinity: the device-ID rules
// (CheckDeviceID, the alphabet and the length bound) and the store-ID rule
// (StoreDeriver, in store.go), the fixed 64-bit hash, and the member-selection
// strategies. The middleware reads the device ID from the request as the backend
// would (its deviceid.go) and leaves these rules to this package; the operator CLI uses
// the same functions.
//
// Traefik interprets this package with Yaegi, so it imports the standard library only
// and uses no language feature or symbol newer than Go 1.22.
package hashing

// The hash is fixed: 64-bit FNV-1a of the bytes, then the SplitMix64 finalizer where
// two hashes are combined. A store's member therefore never differs between versions,
// platforms, or compiled and interpreted runs.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// Hash64 returns the 64-bit FNV-1a hash of s.
func Hash64(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// mix is the SplitMix64 finalizer: it spreads every input bit over the whole result,
// so that the combination of a store hash and a member hash is uniformly distributed.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
