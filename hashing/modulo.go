package hashing

// modulo is StateLB-style placement: the store hash modulo the number of members, over
// the members sorted by name. Almost every store moves when the member count changes.
type modulo struct {
	names []string
}

func newModulo(names []string) *modulo { return &modulo{names: names} }

func (m *modulo) Members() []string { return m.names }

func (m *modulo) Strategy() string { return StrategyModulo }

func (m *modulo) Pick(store string) int { return m.PickHash(Hash64(store)) }

// PickHash is Pick for a store whose Hash64 is h.
func (m *modulo) PickHash(h uint64) int { return int(h % uint64(len(m.names))) }

// PickScore is PickHash; modulo has no scores.
func (m *modulo) PickScore(h uint64) (int, uint64) { return m.PickHash(h), 0 }

// Rank starts at the store's member and continues in sorted order, wrapping around.
func (m *modulo) Rank(store string) []int {
	first := m.Pick(store)
	order := make([]int, len(m.names))
	for i := range order {
		order[i] = (first + i) % len(m.names)
	}
	return order
}
