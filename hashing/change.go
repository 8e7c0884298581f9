package hashing

// Change tells which stores move from one member list to another, doing only the work
// that the change needs: under rendezvous hashing, a store moves only when its member
// is removed, or when an added member outranks it, so a store costs one score per
// added member instead of one per member.
type Change struct {
	to      Picker
	removed map[string]bool
	added   []string          // added member names, for ties
	seeds   []uint64          // their seeds
	owners  map[string]uint64 // seed of every kept member
	partial bool              // both lists are rendezvous: only the added members are scored
}

// NewChange returns the change from one picker to another.
func NewChange(from, to Picker) *Change {
	c := &Change{to: to, removed: map[string]bool{}, owners: map[string]uint64{}}
	// Not a type assertion: under Yaegi one does not recognise an interpreted type.
	c.partial = from.Strategy() == StrategyRendezvous && to.Strategy() == StrategyRendezvous
	kept := map[string]bool{}
	for _, name := range to.Members() {
		kept[name] = true
	}
	for _, name := range from.Members() {
		if !kept[name] {
			c.removed[name] = true
		}
		delete(kept, name)
	}
	for _, name := range to.Members() {
		if kept[name] {
			c.added = append(c.added, name)
			c.seeds = append(c.seeds, Hash64(name))
		} else {
			c.owners[name] = Hash64(name)
		}
	}
	return c
}

// NewFullChange returns a change to a picker from an unknown or unfinished one: every
// store is picked again over the whole list, and Moved rescores the stores that stay.
func NewFullChange(to Picker) *Change {
	return &Change{to: to, removed: map[string]bool{}, owners: map[string]uint64{}}
}

// Added returns the names of the added members.
func (c *Change) Added() []string { return c.added }

// Removed returns the names of the removed members, in no order.
func (c *Change) Removed() []string {
	var out []string
	for name := range c.removed {
		out = append(out, name)
	}
	return out
}

// Moves reports whether a store whose Hash64 is storeHash, and whose member under the
// old list is owner, has another member under the new list.
func (c *Change) Moves(storeHash uint64, owner string) bool {
	if c.removed[owner] {
		return true
	}
	if _, kept := c.owners[owner]; !c.partial || !kept {
		return c.to.Members()[c.to.PickHash(storeHash)] != owner
	}
	ownerScore := mix(storeHash ^ c.owners[owner])
	for i, seed := range c.seeds {
		score := mix(storeHash ^ seed)
		if score > ownerScore || score == ownerScore && c.added[i] < owner {
			return true
		}
	}
	return false
}

// Moved returns, for the stores of owner given by their Hash64s and owner's scores
// for them (PickScore's), which of them have another member under the new list; when
// it picks stores over the whole new list, it writes their new scores into scores.
// One call for all of a member's stores: under Yaegi a call per store costs more than
// its scoring.
func (c *Change) Moved(owner string, hashes, scores []uint64) []bool {
	moved := make([]bool, len(hashes))
	if c.removed[owner] {
		for i := range moved {
			moved[i] = true
		}
		return moved
	}
	if _, kept := c.owners[owner]; !c.partial || !kept {
		names := c.to.Members()
		for i, h := range hashes {
			best, score := c.to.PickScore(h)
			moved[i], scores[i] = names[best] != owner, score
		}
		return moved
	}
	for i, h := range hashes {
		for k, seed := range c.seeds {
			score := h ^ seed // mix, written out
			score ^= score >> 30
			score *= 0xbf58476d1ce4e5b9
			score ^= score >> 27
			score *= 0x94d049bb133111eb
			score ^= score >> 31
			if score > scores[i] || score == scores[i] && c.added[k] < owner {
				moved[i] = true
				break
			}
		}
	}
	return moved
}
